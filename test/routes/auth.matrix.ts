import { newUser, PASSWORD, uniqueEmail } from "../helpers";
import { authed, type MatrixRows } from "../matrix/types";

export const matrix: MatrixRows = {
  rows: {
    "POST /api/auth/register": {
      path: "/api/auth/register/",
      expect: 201,
      publicBody: async () => ({ name: "Matrix", email: uniqueEmail("matrix"), password: PASSWORD }),
    },
    "POST /api/auth/login": {
      path: "/api/auth/login/",
      expect: 200,
      publicBody: async () => {
        const user = await newUser();
        return { email: user.email, password: PASSWORD };
      },
    },
    "POST /api/auth/refresh": {
      path: "/api/auth/refresh/",
      expect: 200,
      publicBody: async () => ({ refresh: (await newUser()).tokens.refresh }),
    },
    "POST /api/auth/logout": {
      path: "/api/auth/logout/",
      expect: 204,
      publicBody: async () => ({ refresh: (await newUser()).tokens.refresh }),
    },
    "GET /api/auth/me": { path: "/api/auth/me/", expect: authed(200, 200, 200) },
    // A wrong current password (a right one would end the persona's sessions for the rows after it): anyone may try, for their own account.
    "POST /api/auth/password": {
      path: "/api/auth/password/",
      body: () => ({ current_password: "not the password", new_password: "a brand new passphrase" }),
      expect: authed(400, 400, 400),
    },
  },
};

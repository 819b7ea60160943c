import { newUser } from "../helpers";
import { authed, type MatrixRows } from "../matrix/types";

export const matrix: MatrixRows = {
  // Another account for the administrator routes to act on (never the caller: changing one's own flags is 409).
  fixture: async () => ({ user: (await newUser("Managed")).id }),
  rows: {
    "GET /api/admin/stats": { path: "/api/admin/stats/", expect: authed(403, 403, 200) },
    "GET /api/admin/users": { path: "/api/admin/users/", expect: authed(403, 403, 200) },
    "GET /api/admin/users/:id": { path: "/api/admin/users/{user}/", expect: authed(403, 403, 200) },
    "PATCH /api/admin/users/:id": { path: "/api/admin/users/{user}/", body: () => ({ name: "Renamed" }), expect: authed(403, 403, 200) },
    "DELETE /api/admin/users/:id/sessions": { path: "/api/admin/users/{user}/sessions/", expect: authed(403, 403, 204) },
  },
};

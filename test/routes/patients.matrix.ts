import { createPatient, VALID_PATIENT } from "../helpers";
import { authed, type MatrixRows } from "../matrix/types";

export const matrix: MatrixRows = {
  fixture: async (owner) => ({ patient: (await createPatient(owner)).body.id }),
  rows: {
    "GET /api/patients": { path: "/api/patients/", expect: authed(200, 200, 200) },
    "POST /api/patients": { path: "/api/patients/", body: () => VALID_PATIENT, expect: authed(201, 201, 201) },
    "GET /api/patients/:id": { path: "/api/patients/{patient}/", expect: authed(404, 200, 404) },
    "PUT /api/patients/:id": { path: "/api/patients/{patient}/", body: () => VALID_PATIENT, expect: authed(404, 200, 404) },
    "PATCH /api/patients/:id": { path: "/api/patients/{patient}/", body: () => ({ name: "Changed" }), expect: authed(404, 200, 404) },
    "DELETE /api/patients/:id": { path: "/api/patients/{patient}/", expect: authed(404, 204, 404) },
  },
};

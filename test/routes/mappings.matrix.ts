import { createMapping } from "../helpers";
import { authed, type MatrixRows } from "../matrix/types";

export const matrix: MatrixRows = {
  // Runs after the patients and doctors fixtures: assigns their doctor to their patient.
  fixture: async (owner, f) => ({ mapping: (await createMapping(owner, f.patient, f.doctor)).body.id }),
  rows: {
    "GET /api/mappings": { path: "/api/mappings/", expect: authed(200, 200, 200) },
    // Another user's patient in the body is "not one of your patients": 400 (admins included).
    "POST /api/mappings": {
      path: "/api/mappings/",
      body: (f) => ({ patient_id: f.patient, doctor_id: f.spareDoctor }),
      expect: authed(400, 201, 400),
    },
    "GET /api/mappings/patient/:id": { path: "/api/mappings/patient/{patient}/", expect: authed(404, 200, 404) },
    "GET /api/mappings/:id": { path: "/api/mappings/{mapping}/", expect: authed(404, 200, 404) },
    "DELETE /api/mappings/:id": { path: "/api/mappings/{mapping}/", expect: authed(404, 204, 404) },
  },
};

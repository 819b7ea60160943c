import { createDoctor, VALID_DOCTOR } from "../helpers";
import { authed, type MatrixRows } from "../matrix/types";

export const matrix: MatrixRows = {
  // `doctor` is assigned to a patient by the mappings fixture; `spareDoctor` to nobody.
  fixture: async (owner) => {
    const [doctor, spare] = await Promise.all([createDoctor(owner), createDoctor(owner)]);
    return { doctor: doctor.body.id, spareDoctor: spare.body.id };
  },
  rows: {
    "GET /api/doctors": { path: "/api/doctors/", expect: authed(200, 200, 200) },
    "POST /api/doctors": { path: "/api/doctors/", body: () => VALID_DOCTOR, expect: authed(201, 201, 201) },
    "GET /api/doctors/:id": { path: "/api/doctors/{doctor}/", expect: authed(200, 200, 200) },
    "PUT /api/doctors/:id": { path: "/api/doctors/{doctor}/", body: () => VALID_DOCTOR, expect: authed(403, 200, 200) },
    "PATCH /api/doctors/:id": { path: "/api/doctors/{doctor}/", body: () => ({ name: "Dr Changed" }), expect: authed(403, 200, 200) },
    // The fixture's doctor is assigned; deleting it is a conflict for anyone allowed to try.
    "DELETE /api/doctors/:id": { path: "/api/doctors/{doctor}/", expect: authed(403, 409, 409) },
  },
};

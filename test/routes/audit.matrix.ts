import { authed, type MatrixRows } from "../matrix/types";

export const matrix: MatrixRows = {
  rows: {
    "GET /api/audit": { path: "/api/audit/", expect: authed(403, 403, 200) },
  },
};

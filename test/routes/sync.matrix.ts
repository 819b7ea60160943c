import { authed, type MatrixRows } from "../matrix/types";

export const matrix: MatrixRows = {
  rows: {
    // Everyone syncs their own feed; what it holds is test/routes/sync.test.ts's business.
    "GET /api/sync": { path: "/api/sync/", expect: authed(200, 200, 200) },
  },
};

import type { MatrixRows } from "../matrix/types";

export const matrix: MatrixRows = {
  rows: {
    "GET /api/openapi.json": { path: "/api/openapi.json", expect: 200 },
    "GET /api/docs": { path: "/api/docs/", expect: 200 },
  },
};

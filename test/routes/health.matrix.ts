import type { MatrixRows } from "../matrix/types";

export const matrix: MatrixRows = {
  rows: {
    "GET /api/health": { path: "/api/health/", expect: 200 },
    "GET /api/health/ready": { path: "/api/health/ready/", expect: 200 },
  },
};

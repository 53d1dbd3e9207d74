//! The Prometheus HTTP API (`/api/v1/*`). Built by the API helper.

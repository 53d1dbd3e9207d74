//! Remote write: the receiver of `POST /api/v1/write` (Prometheus remote-write 1.0,
//! snappy-compressed protobuf `WriteRequest`).

pub mod proto;
mod receive;
mod router;

pub use receive::{
    decode_snappy, handle, handle_with_limits, Limits, RemoteWriteError, WriteStats,
};
pub use router::{remote_write_router, remote_write_router_with};

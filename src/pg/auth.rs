//! Server-side SCRAM-SHA-256 and md5 authentication (being written).

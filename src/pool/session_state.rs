//! Session state in transaction pooling: which statements change it, and
//! the SET statements that re-apply a client's parameters on a server.

//! The store ports: one contract suite on the memory store and on DynamoDB
//! (moto), and provisioning over them.

mod contract;
mod provision;

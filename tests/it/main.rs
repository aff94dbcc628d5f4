//! The one integration-test binary: every test of the workspace that needs
//! more than one module, linked once (the AWS SDK, reqwest and the
//! simulator are linked into one executable, not one per file). Its modules
//! mirror the source:
//! - `operations`: each operation's behaviour through the pipeline;
//! - `pipeline`: what every route shares (auth, scopes, 404/405, the
//!   envelope, deadlines, failures of the stores);
//! - `engines`: every engine's fake, what an answer proves, hostile replies,
//!   and the real Evolution API;
//! - `stores`: the store contract on memory and on DynamoDB (moto), and
//!   provisioning;
//! - `deploy`: the template, the sample events under the Lambda emulator,
//!   and the `admin`/`local-api` processes end to end.

mod deploy;
mod engines;
mod operations;
mod pipeline;
mod stores;
mod support;

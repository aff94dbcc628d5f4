//! What is deployed and run: the template, the functions' bootstraps under
//! the Lambda emulator, and the `admin` and `local-api` processes.

mod derived;
mod e2e;
mod lambda_emulator;
mod template;

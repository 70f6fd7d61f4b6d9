#![allow(dead_code)]
pub mod certs;
pub mod harness;
pub mod proxy;
pub mod redis;

#![allow(dead_code)]
pub mod harness;
pub mod proxy;
pub mod redis;

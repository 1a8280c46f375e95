#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| llmspy::fuzz::grpc(data));

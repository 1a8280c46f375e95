//! Every parser that reads bytes from the network or from files, fed
//! arbitrary bytes and mutated real inputs (the fixtures, and what llmspy
//! derives from them: HAR exports, recorded expectation fixtures, bodies).
//! The entry points are `llmspy::fuzz`, the same the cargo-fuzz targets in
//! `fuzz/` run for longer (see the README).
//!
//! `FUZZ_SEEDS_DIR=fuzz/corpus cargo test --test it fuzz::write_seed_corpus`
//! writes this seed corpus out for cargo-fuzz.

mod seeds;

use std::path::Path;

use proptest::prelude::*;
use seeds::{corpus, edits, mutate, target};

macro_rules! fuzz_target {
    ($name:ident) => {
        mod $name {
            use super::*;

            proptest! {
                #[test]
                fn arbitrary_bytes(data in proptest::collection::vec(any::<u8>(), 0..2048)) {
                    target(stringify!($name))(&data);
                }

                #[test]
                fn mutated_corpus(pick in any::<usize>(), edits in edits()) {
                    let seeds = corpus(stringify!($name));
                    prop_assume!(!seeds.is_empty());
                    let seed = &seeds[pick % seeds.len()];
                    target(stringify!($name))(&mutate(seed, &edits));
                }
            }

            #[test]
            fn seeds_as_they_are() {
                for seed in corpus(stringify!($name)) {
                    target(stringify!($name))(seed);
                }
            }
        }
    };
}

fuzz_target!(sniff);
fuzz_target!(socks5);
fuzz_target!(sse);
fuzz_target!(grpc);
fuzz_target!(llm);
fuzz_target!(mcp);
fuzz_target!(filter);
fuzz_target!(expectations);
fuzz_target!(har);
fuzz_target!(saved);

#[test]
fn every_target_has_a_test_and_a_corpus() {
    for (name, _) in llmspy::fuzz::TARGETS {
        assert!(!corpus(name).is_empty(), "{name} has seeds");
    }
}

/// Writes the seed corpus for cargo-fuzz when `FUZZ_SEEDS_DIR` is set.
#[test]
fn write_seed_corpus() {
    let Some(dir) = std::env::var_os("FUZZ_SEEDS_DIR") else {
        return;
    };
    for (name, _) in llmspy::fuzz::TARGETS {
        let out = Path::new(&dir).join(name);
        std::fs::create_dir_all(&out).expect("corpus dir");
        for (i, seed) in corpus(name).iter().enumerate() {
            std::fs::write(out.join(format!("seed-{i:03}")), seed).expect("seed");
        }
    }
}

//! Export formats: a JSON snapshot per format over a fixed sample capture,
//! redaction on by default, the native round trip through `llmspy open`'s
//! loader, and a writer for the real importers (`scripts/validate-exports`).

mod samples;

use std::io::Read;

use llmspy::export::{self, Format, Options};
use serde_json::Value;

fn options() -> Options<'static> {
    Options {
        assistant_text: Some(&samples::assistant_text),
        ..Options::default()
    }
}

/// JSON snapshots with map keys sorted, so they don't depend on whether
/// serde_json keeps insertion order (its `preserve_order` feature).
macro_rules! assert_json {
    ($name:expr, $value:expr) => {
        insta::with_settings!({ sort_maps => true }, {
            insta::assert_json_snapshot!($name, $value);
        })
    };
}

fn render_json(format: Format, opts: &Options) -> Value {
    let bytes = export::render(format, &samples::all(), opts).expect("export renders");
    serde_json::from_slice(&bytes).expect("export is JSON")
}

#[test]
fn har_snapshot() {
    assert_json!("har", render_json(Format::Har, &options()));
}

#[test]
fn openapi_snapshot() {
    assert_json!("openapi", render_json(Format::OpenApi, &options()));
}

#[test]
fn postman_snapshot() {
    assert_json!("postman", render_json(Format::Postman, &options()));
}

#[test]
fn native_snapshot() {
    assert_json!("native", render_json(Format::Json, &options()));
}

#[test]
fn recorded_expectations_snapshot() {
    let (redacted, _) = llmspy::redact::redact_all(&samples::all());
    assert_json!("expectations", export::expectations::recorded(&redacted));
}

#[test]
fn bruno_snapshot() {
    let (redacted, _) = llmspy::redact::redact_all(&samples::all());
    let files = export::bruno::files(&redacted, &options());
    let text: String = files
        .iter()
        .map(|(path, body)| format!("=== {path} ===\n{}", String::from_utf8_lossy(body)))
        .collect();
    insta::assert_snapshot!("bruno", text);
}

#[test]
fn bruno_zip_holds_the_same_files() {
    let opts = options();
    let bytes = export::render(Format::Bruno, &samples::all(), &opts).expect("zip renders");
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("valid zip");
    // render() redacts first, so compare with the files of a redacted copy.
    let redacted = llmspy::redact::redact_all(&samples::all()).0;
    let want = export::bruno::files(&redacted, &opts);
    assert_eq!(zip.len(), want.len());
    for (i, (path, bytes)) in want.iter().enumerate() {
        let mut file = zip.by_index(i).expect("entry");
        assert_eq!(file.name(), path);
        let mut got = Vec::new();
        file.read_to_end(&mut got).expect("entry");
        assert_eq!(&got, bytes, "{path}");
    }
}

/// A multipart upload becomes Bruno's form: its field as a line, its file
/// beside the `.bru`, byte for byte (CRLFs and all), under the name the
/// client gave it.
#[test]
fn bruno_writes_a_multipart_upload_as_a_form_with_its_file() {
    let file = b"line one\r\nline two\n\x00\xff";
    let mut body = b"--b0und\r\ncontent-disposition: form-data; name=\"purpose\"\r\n\r\nassistants\r\n--b0und\r\ncontent-disposition: form-data; name=\"file\"; filename=\"notes.bin\"\r\ncontent-type: application/octet-stream\r\n\r\n".to_vec();
    body.extend_from_slice(file);
    body.extend_from_slice(b"\r\n--b0und--\r\n");
    let ex = llmspy::exchange::Exchange::builder()
        .id(7)
        .method("POST")
        .url("https://api.openai.com/v1/files")
        .header("content-type", "multipart/form-data; boundary=b0und")
        .body(body)
        .status(200)
        .response_body("{}")
        .build();
    let files = export::bruno::files(&[ex], &options());
    let bru = files
        .iter()
        .find(|(p, _)| p.ends_with(".bru") && !p.ends_with("folder.bru"))
        .map(|(_, b)| String::from_utf8(b.clone()).expect("utf-8"))
        .expect("a request file");
    assert!(bru.contains("  body: multipartForm\n"), "{bru}");
    let attached = "api.openai.com/files/001-POST-v1-files-2/notes.bin";
    let form =
        format!("body:multipart-form {{\n  purpose: assistants\n  file: @file({attached})\n}}");
    assert!(bru.contains(&form), "{bru}");
    assert!(!bru.contains("body:text"), "{bru}");
    // Bruno writes its own boundary, and the content type that names it.
    assert!(!bru.contains("b0und"), "{bru}");
    let sent = files.iter().find(|(p, _)| p == attached).expect("the file");
    assert_eq!(sent.1, file);
}

#[test]
fn secrets_are_redacted_by_default_in_every_format() {
    let secrets = [
        "sk-ant-secret",
        "AIza-secret",
        "sk-proj-secret",
        "__cf_bm=abc",
    ];
    for format in Format::ALL {
        let bytes = export::render(format, &samples::all(), &Options::default()).expect("renders");
        let text = if format == Format::Bruno {
            unzip_all(&bytes)
        } else {
            String::from_utf8(bytes).expect("utf-8")
        };
        for secret in secrets {
            assert!(!text.contains(secret), "{format} leaks {secret}");
        }
        // OpenAPI describes credentials as security schemes, without values.
        if format != Format::OpenApi {
            assert!(text.contains("***REDACTED***"), "{format} shows no mask");
        }
    }
}

#[test]
fn redact_false_keeps_credentials() {
    let opts = Options {
        redact: false,
        ..Options::default()
    };
    let har = render_json(Format::Har, &opts).to_string();
    assert!(har.contains("sk-ant-secret"));
}

#[test]
fn native_json_loads_back() {
    let opts = Options {
        redact: false,
        ..Options::default()
    };
    let original = samples::all();
    let bytes = export::render(Format::Json, &original, &opts).expect("renders");
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("capture.json");
    std::fs::write(&path, bytes).expect("write");
    let loaded = llmspy::capture::save::load(&path).expect("loads");
    assert_eq!(loaded, original);

    // The reassembled text added for readers doesn't stop it loading.
    let bytes = export::render(
        Format::Json,
        &original,
        &Options {
            redact: false,
            ..options()
        },
    )
    .expect("renders");
    assert!(String::from_utf8_lossy(&bytes).contains("\"assistantText\": \"Hello world\""));
    std::fs::write(&path, bytes).expect("write");
    assert_eq!(llmspy::capture::save::load(&path).expect("loads"), original);
}

#[test]
fn streamed_text_shows_in_every_readable_format() {
    let opts = options();
    for format in [Format::Json, Format::Har, Format::OpenApi, Format::Postman] {
        let text =
            String::from_utf8(export::render(format, &samples::all(), &opts).expect("renders"))
                .expect("utf-8");
        assert!(
            text.contains("Hello world"),
            "{format} lacks the reassembled text"
        );
        assert!(
            text.contains("content_block_delta"),
            "{format} lacks the raw events"
        );
    }
    let bruno = unzip_all(&export::render(Format::Bruno, &samples::all(), &opts).expect("renders"));
    assert!(bruno.contains("> Hello world"));
}

fn unzip_all(bytes: &[u8]) -> String {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("valid zip");
    let mut all = String::new();
    for i in 0..zip.len() {
        let mut file = zip.by_index(i).expect("entry");
        file.read_to_string(&mut all).expect("utf-8 entry");
    }
    all
}

/// Writes every format for the sample capture, pointed at a running local
/// upstream, for `scripts/validate-exports/run.sh`:
/// `LLMSPY_EXPORT_DIR=dir LLMSPY_EXPORT_UPSTREAM=127.0.0.1:8080 cargo test
/// --test it write_exports_for_validation -- --ignored`.
#[test]
#[ignore = "writes files for scripts/validate-exports; needs LLMSPY_EXPORT_DIR"]
fn write_exports_for_validation() {
    let dir = std::env::var("LLMSPY_EXPORT_DIR").expect("LLMSPY_EXPORT_DIR set");
    let upstream =
        std::env::var("LLMSPY_EXPORT_UPSTREAM").unwrap_or_else(|_| "127.0.0.1:8080".into());
    let (host, port) = upstream.rsplit_once(':').expect("HOST:PORT");
    let exchanges = samples::retargeted(host, port.parse().expect("numeric port"));
    let opts = options();
    for format in Format::ALL {
        let bytes = export::render(format, &exchanges, &opts).expect("renders");
        let path = std::path::Path::new(&dir).join(format!("sample.{}", format.file_extension()));
        std::fs::write(path, bytes).expect("write export");
    }
}

/// The streamed exports (what `/llmspy/retrieve` sends) are byte for byte
/// the documents rendered whole, for every sample capture and its prefixes
/// (none, one host, several hosts).
#[test]
fn streamed_exports_match_the_whole_documents() {
    use llmspy::export::stream::{Exporter, Meta};
    let all = samples::all();
    for format in [Format::Json, Format::Har, Format::Postman] {
        for n in [0, 1, all.len()] {
            let exchanges = &all[..n];
            let whole = export::render(format, exchanges, &options()).expect("whole");
            let metas: Vec<Meta> = exchanges.iter().map(Meta::of).collect();
            let mut exporter = Exporter::new(format, options(), &metas).expect("streams");
            let mut out = Vec::new();
            exporter.begin(&mut out);
            for id in exporter.order().to_vec() {
                let ex = exchanges.iter().find(|e| e.id == id).expect("id");
                exporter.item(ex, &mut out).expect("item");
            }
            exporter.finish(&mut out);
            assert_eq!(
                String::from_utf8_lossy(&out),
                String::from_utf8_lossy(&whole),
                "{format} with {n} exchange(s)"
            );
        }
    }
    assert!(Exporter::new(Format::OpenApi, options(), &[]).is_none());
    assert!(Exporter::new(Format::Bruno, options(), &[]).is_none());
}

//! Putting text on the user's clipboard: the system clipboard through arboard
//! on a local X session, and the OSC 52 escape sequence otherwise, which the
//! user's own terminal honours even over SSH and (wrapped) inside tmux.

use std::io::Write;

use base64::Engine;

/// Where copied text goes. The UI holds one; tests substitute a recorder.
pub trait Clipboard {
    /// Copy `text`; on success say how ("to the clipboard", "via OSC 52").
    fn copy(&mut self, text: &str) -> Result<&'static str, String>;
}

/// The real clipboard.
#[derive(Default)]
pub struct SystemClipboard {
    /// Kept for the UI's lifetime: on X11 the owner must stay alive for the
    /// copied text to remain pasteable.
    native: Option<arboard::Clipboard>,
}

impl SystemClipboard {
    pub fn new() -> Self {
        SystemClipboard::default()
    }

    fn native(&mut self, text: &str) -> Result<(), String> {
        if self.native.is_none() {
            self.native = Some(arboard::Clipboard::new().map_err(|e| e.to_string())?);
        }
        match self.native.as_mut() {
            Some(cb) => cb.set_text(text.to_string()).map_err(|e| e.to_string()),
            None => Err("no clipboard".into()),
        }
    }
}

impl Clipboard for SystemClipboard {
    fn copy(&mut self, text: &str) -> Result<&'static str, String> {
        // Over SSH the local X clipboard (if any) is the remote machine's,
        // which is not where the user pastes: go straight to OSC 52.
        let remote =
            std::env::var_os("SSH_CONNECTION").is_some() || std::env::var_os("SSH_TTY").is_some();
        if !remote && self.native(text).is_ok() {
            return Ok("to the clipboard");
        }
        if text.len() > OSC52_MAX {
            return Err(too_big_for_osc52(text.len()));
        }
        let tmux = std::env::var_os("TMUX").is_some();
        let mut out = std::io::stdout().lock();
        out.write_all(osc52(text, tmux).as_bytes())
            .and_then(|()| out.flush())
            .map_err(|e| e.to_string())?;
        Ok("via OSC 52")
    }
}

/// The most text sent through OSC 52. Terminals drop longer sequences
/// without a word (tmux past 1 MiB of input, and many terminals far
/// sooner), so a copy that big would be reported done and paste nothing;
/// 512 KiB is about 700 KB once base64-encoded.
pub const OSC52_MAX: usize = 512 * 1024;

/// Why a copy of `len` bytes is not sent through OSC 52, and what to do.
pub fn too_big_for_osc52(len: usize) -> String {
    format!(
        "{len} bytes is more than a terminal takes through OSC 52 (at most {OSC52_MAX}); export it instead (e)"
    )
}

/// The escape sequence that asks the terminal to set its clipboard. Inside
/// tmux it is sent both plainly (taken when `set-clipboard on`) and wrapped in
/// a passthrough sequence (taken when `allow-passthrough on`).
pub fn osc52(text: &str, tmux: bool) -> String {
    let payload = base64::engine::general_purpose::STANDARD.encode(text);
    let plain = format!("\x1b]52;c;{payload}\x07");
    if tmux {
        // In a tmux passthrough, every ESC of the inner sequence is doubled.
        let inner = plain.replace('\x1b', "\x1b\x1b");
        format!("{plain}\x1bPtmux;{inner}\x1b\\")
    } else {
        plain
    }
}

/// A clipboard that remembers what it was given (for tests and `--no-clipboard`).
#[derive(Debug, Default, Clone)]
pub struct Recorder {
    pub copied: std::rc::Rc<std::cell::RefCell<Vec<String>>>,
}

impl Clipboard for Recorder {
    fn copy(&mut self, text: &str) -> Result<&'static str, String> {
        self.copied.borrow_mut().push(text.to_string());
        Ok("to the clipboard")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Text too long for OSC 52 is refused with the reason, not written
    /// and reported done (this runs without a display: no native clipboard).
    #[test]
    fn a_copy_too_big_for_osc52_is_refused() {
        if std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some() {
            return;
        }
        let err = SystemClipboard::new()
            .copy(&"x".repeat(OSC52_MAX + 1))
            .expect_err("too big");
        assert!(err.contains("OSC 52") && err.contains("export"), "{err}");
    }

    #[test]
    fn osc52_plain_and_tmux() {
        assert_eq!(osc52("hi", false), "\x1b]52;c;aGk=\x07");
        assert_eq!(
            osc52("hi", true),
            "\x1b]52;c;aGk=\x07\x1bPtmux;\x1b\x1b]52;c;aGk=\x07\x1b\\"
        );
    }
}

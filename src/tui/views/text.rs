//! Small text-fitting helpers shared by the views.

use crate::tui::doc::text_width;

/// `s` cut or padded to exactly `width` columns; cut text ends with `…`.
pub fn fit(s: &str, width: usize) -> String {
    let mut out = cut(s, width);
    let w = text_width(&out);
    out.extend(std::iter::repeat_n(' ', width.saturating_sub(w)));
    out
}

/// `s` right-aligned in `width` columns (cut on the left if too long).
pub fn fit_right(s: &str, width: usize) -> String {
    let w = text_width(s);
    if w > width {
        return cut(s, width);
    }
    format!("{}{s}", " ".repeat(width - w))
}

/// `s` cut to at most `width` columns, with `…` when cut.
pub fn cut(s: &str, width: usize) -> String {
    if text_width(s) <= width {
        return s.to_string();
    }
    if width == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let cw = text_width(c.encode_utf8(&mut [0u8; 4]));
        if used + cw > width - 1 {
            break;
        }
        out.push(c);
        used += cw;
    }
    out.push('…');
    out
}

/// Text centred in `width` columns.
pub fn center(s: &str, width: usize) -> String {
    let s = cut(s, width);
    let pad = width.saturating_sub(text_width(&s)) / 2;
    format!("{}{s}", " ".repeat(pad))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fitting() {
        assert_eq!(fit("abc", 5), "abc  ");
        assert_eq!(fit("abcdef", 4), "abc…");
        assert_eq!(fit_right("42", 4), "  42");
        assert_eq!(cut("日本語", 4), "日…");
        assert_eq!(center("ab", 6), "  ab");
    }
}

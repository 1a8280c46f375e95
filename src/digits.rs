//! Whole numbers written as decimal text onto a string, for what is written
//! once per exchange (the `--no-tui` log line, a client's address): `write!`
//! goes through the formatting machinery, several times the cost of the
//! digits themselves.

/// `n` in decimal, at least `width` digits (zero-padded, up to 20).
pub fn push_padded(out: &mut String, n: u64, width: usize) {
    let mut digits = [b'0'; 20];
    let mut at = digits.len();
    let mut rest = n;
    loop {
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    let at = at.min(digits.len().saturating_sub(width));
    // Only ASCII digits were written.
    out.push_str(std::str::from_utf8(&digits[at..]).unwrap_or_default());
}

/// `n` in decimal.
pub fn push(out: &mut String, n: u64) {
    push_padded(out, n, 1);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_as_format_writes_it() {
        for n in [0, 1, 9, 10, 99, 100, 999, 1_000, 65_535, 1 << 32, u64::MAX] {
            for width in [0, 1, 2, 3, 5, 20] {
                let mut out = String::from("x");
                push_padded(&mut out, n, width);
                assert_eq!(out, format!("x{n:0width$}"), "{n} in {width}");
            }
            let mut out = String::new();
            push(&mut out, n);
            assert_eq!(out, n.to_string());
        }
    }
}

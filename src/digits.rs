//! Whole numbers written as decimal text onto a string, for what is written
//! once per exchange (the `--no-tui` log line, a client's address): `write!`
//! goes through the formatting machinery, several times the cost of the
//! digits themselves.

/// `value` in the decimal digits of `slot`, zero-padded (its high digits
/// cut when it has more than the slot holds).
pub fn fill(slot: &mut [u8], mut value: u64) {
    for d in slot.iter_mut().rev() {
        *d = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

/// `n` in decimal, at least `width` digits (zero-padded, up to 20).
pub fn push_padded(out: &mut String, n: u64, width: usize) {
    let mut len = 1;
    let mut rest = n / 10;
    while rest > 0 {
        len += 1;
        rest /= 10;
    }
    let mut digits = [b'0'; 20];
    let slot = &mut digits[..len.max(width).min(20)];
    fill(slot, n);
    // Only ASCII digits were written.
    out.push_str(std::str::from_utf8(slot).unwrap_or_default());
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

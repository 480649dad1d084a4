//! Python's backslash escapes in a string literal, as `unicode-escape` and
//! the tokenizer decode them: NumPy's header reader and the chat-template
//! reader both need them.

/// Decode the escape whose letter `e` follows a backslash, with `rest` the
/// characters after it; append what it stands for to `out` and return how
/// many characters of `rest` it used. In a bytes literal (`bytes`) `\u`,
/// `\U` and `\N` are not escapes. An escape Python cannot decode (or a
/// `\N{…}` name, for want of a name table) is an error.
pub(super) fn escape(
    e: char,
    rest: &[char],
    bytes: bool,
    out: &mut String,
) -> Result<usize, &'static str> {
    match e {
        '\n' => {}
        '\\' | '\'' | '"' => out.push(e),
        'a' => out.push('\x07'),
        'b' => out.push('\x08'),
        'f' => out.push('\x0c'),
        'n' => out.push('\n'),
        'r' => out.push('\r'),
        't' => out.push('\t'),
        'v' => out.push('\x0b'),
        '0'..='7' => {
            let mut v = e.to_digit(8).unwrap_or(0);
            let mut used = 0;
            while used < 2 {
                match rest.get(used).and_then(|c| c.to_digit(8)) {
                    Some(d) => {
                        v = v * 8 + d;
                        used += 1;
                    }
                    None => break,
                }
            }
            out.push(char::from_u32(v).ok_or("bad octal escape")?);
            return Ok(used);
        }
        'x' | 'u' | 'U' if !(bytes && e != 'x') => {
            let n = match e {
                'x' => 2,
                'u' => 4,
                _ => 8,
            };
            let h: String = rest.get(..n).ok_or("truncated escape")?.iter().collect();
            let v = u32::from_str_radix(&h, 16).map_err(|_| "bad hex escape")?;
            out.push(char::from_u32(v).ok_or("bad escape")?);
            return Ok(n);
        }
        'N' if !bytes => return Err("a \\N{...} escape"),
        _ => {
            out.push('\\');
            out.push(e);
        }
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(s: &str, bytes: bool) -> Result<String, &'static str> {
        let c: Vec<char> = s.chars().collect();
        let mut out = String::new();
        let used = escape(c[0], &c[1..], bytes, &mut out)?;
        out.extend(&c[1 + used..]);
        Ok(out)
    }

    #[test]
    fn escapes_as_python_decodes_them() {
        assert_eq!(decode("x41z", false), Ok("Az".into()));
        assert_eq!(decode("101", false), Ok("A".into()));
        assert_eq!(decode("0x", false), Ok("\0x".into()));
        assert_eq!(decode("u005f_", false), Ok("__".into()));
        assert_eq!(decode("u005f", true), Ok("\\u005f".into()));
        assert_eq!(decode("q", false), Ok("\\q".into()));
        assert_eq!(decode("\nA", false), Ok("A".into()));
        assert!(decode("x4", false).is_err());
        assert!(decode("N{LOW LINE}", false).is_err());
    }
}

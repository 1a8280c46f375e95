//! Lexer and recursive-descent parser for the `~` filter language.
//!
//! Grammar (lowest precedence first; juxtaposition is an implicit `&`, as in
//! mitmproxy):
//!
//! ```text
//! or      := and ( "|" and )*
//! and     := unary ( "&"? unary )*
//! unary   := "!" unary | primary
//! primary := "(" or ")" | "~" NAME [value] | value      (a bare value matches the URL)
//! value   := "quoted string" | 'quoted string' | word
//! ```

use regex::bytes::{Regex, RegexBuilder};

use super::{FilterError, Node, Pred, Side, StatusPattern};

/// One lexical token with the 1-based column where it starts.
#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Not,
    And,
    Or,
    Open,
    Close,
    /// `~name`
    Op(String),
    /// A bare word or a quoted string (quotes removed, escapes applied).
    Value(String),
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    col: usize,
}

/// Characters that end a bare word.
fn ends_word(c: char) -> bool {
    c.is_whitespace() || matches!(c, '(' | ')' | '|' | '&')
}

fn lex(src: &str) -> Result<Vec<Token>, FilterError> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let col = i + 1;
        let single = match c {
            '!' => Some(Tok::Not),
            '&' => Some(Tok::And),
            '|' => Some(Tok::Or),
            '(' => Some(Tok::Open),
            ')' => Some(Tok::Close),
            _ => None,
        };
        if c.is_whitespace() {
            i += 1;
        } else if let Some(tok) = single {
            out.push(Token { tok, col });
            i += 1;
        } else if c == '"' || c == '\'' {
            let (value, next) = lex_quoted(&chars, i)?;
            out.push(Token {
                tok: Tok::Value(value),
                col,
            });
            i = next;
        } else if c == '~' {
            let end = scan(&chars, i + 1, |c| c.is_ascii_alphanumeric());
            let name: String = chars[i + 1..end].iter().collect();
            out.push(Token {
                tok: Tok::Op(name),
                col,
            });
            i = end;
        } else {
            let end = scan(&chars, i, |c| !ends_word(c));
            out.push(Token {
                tok: Tok::Value(chars[i..end].iter().collect()),
                col,
            });
            i = end;
        }
    }
    Ok(out)
}

fn scan(chars: &[char], from: usize, keep: impl Fn(char) -> bool) -> usize {
    let mut end = from;
    while end < chars.len() && keep(chars[end]) {
        end += 1;
    }
    end
}

/// Read a quoted string starting at `start` (the quote); returns the text and
/// the index after the closing quote. A backslash escapes the next character.
fn lex_quoted(chars: &[char], start: usize) -> Result<(String, usize), FilterError> {
    let quote = chars[start];
    let mut value = String::new();
    let mut i = start + 1;
    while i < chars.len() {
        match chars[i] {
            '\\' if i + 1 < chars.len() => {
                // Keep the backslash unless it escapes the quote, so regex
                // escapes such as `\d` survive.
                if chars[i + 1] != quote {
                    value.push('\\');
                }
                value.push(chars[i + 1]);
                i += 2;
            }
            c if c == quote => return Ok((value, i + 1)),
            c => {
                value.push(c);
                i += 1;
            }
        }
    }
    Err(FilterError::new(
        start + 1,
        format!("unterminated string: expected a closing {quote}"),
    ))
}

/// Parse a whole expression; blank input is `None` (match everything).
pub(super) fn parse(src: &str) -> Result<Option<Node>, FilterError> {
    let tokens = lex(src)?;
    if tokens.is_empty() {
        return Ok(None);
    }
    let mut p = Parser {
        tokens,
        pos: 0,
        end_col: src.chars().count() + 1,
    };
    let node = p.or()?;
    match p.peek() {
        None => Ok(Some(node)),
        Some(t) if t.tok == Tok::Close => Err(FilterError::new(t.col, "unexpected ')'")),
        Some(t) => Err(FilterError::new(t.col, "expected '&', '|' or the end")),
    }
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    /// Column just past the input, for "expected … at the end" errors.
    end_col: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn col(&self) -> usize {
        self.peek().map_or(self.end_col, |t| t.col)
    }

    fn or(&mut self) -> Result<Node, FilterError> {
        let mut left = self.and()?;
        while self.peek().is_some_and(|t| t.tok == Tok::Or) {
            self.pos += 1;
            self.expect_operand("'|'")?;
            let right = self.and()?;
            left = Node::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Node, FilterError> {
        let mut left = self.unary()?;
        loop {
            match self.peek().map(|t| &t.tok) {
                Some(Tok::And) => {
                    self.pos += 1;
                    self.expect_operand("'&'")?;
                    let right = self.unary()?;
                    left = Node::And(Box::new(left), Box::new(right));
                }
                // Juxtaposition: `~m POST ~d api` means both.
                Some(Tok::Not | Tok::Open | Tok::Op(_) | Tok::Value(_)) => {
                    let right = self.unary()?;
                    left = Node::And(Box::new(left), Box::new(right));
                }
                _ => return Ok(left),
            }
        }
    }

    /// Fail with a clear message when an operator has nothing after it.
    fn expect_operand(&self, after: &str) -> Result<(), FilterError> {
        match self.peek().map(|t| &t.tok) {
            None | Some(Tok::Close | Tok::And | Tok::Or) => Err(FilterError::new(
                self.col(),
                format!("expected an expression after {after}"),
            )),
            _ => Ok(()),
        }
    }

    fn unary(&mut self) -> Result<Node, FilterError> {
        if self.peek().is_some_and(|t| t.tok == Tok::Not) {
            self.pos += 1;
            self.expect_operand("'!'")?;
            let inner = self.unary()?;
            return Ok(Node::Not(Box::new(inner)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Node, FilterError> {
        let col = self.col();
        let Some(token) = self.next() else {
            return Err(FilterError::new(col, "expected an expression"));
        };
        match token.tok {
            Tok::Open => self.group(token.col),
            Tok::Op(name) => self.predicate(&name, token.col),
            Tok::Value(v) => Ok(Node::Pred(Pred::Url(regex(&v, token.col, "a bare word")?))),
            Tok::Close => Err(FilterError::new(token.col, "unexpected ')'")),
            Tok::And | Tok::Or | Tok::Not => Err(FilterError::new(
                token.col,
                "expected an expression before this operator",
            )),
        }
    }

    fn group(&mut self, open_col: usize) -> Result<Node, FilterError> {
        if self.peek().is_some_and(|t| t.tok == Tok::Close) {
            return Err(FilterError::new(
                self.col(),
                "expected an expression inside '()'",
            ));
        }
        let inner = self.or()?;
        match self.next() {
            Some(Token {
                tok: Tok::Close, ..
            }) => Ok(inner),
            _ => Err(FilterError::new(
                self.end_col.min(self.col()),
                format!("expected ')' to close the '(' at column {open_col}"),
            )),
        }
    }

    fn predicate(&mut self, name: &str, col: usize) -> Result<Node, FilterError> {
        let pred = match name {
            "all" => Pred::All,
            "e" => Pred::Error,
            "q" => Pred::NoResponse,
            "s" => Pred::HasResponse,
            "mcp" => Pred::Mcp,
            "stream" => Pred::Stream,
            "ws" => Pred::WebSocket,
            "grpc" => Pred::Grpc,
            "grpcerr" => Pred::GrpcError,
            "c" => Pred::Status(self.status()?),
            _ => return self.regex_predicate(name, col),
        };
        Ok(Node::Pred(pred))
    }

    fn regex_predicate(&mut self, name: &str, col: usize) -> Result<Node, FilterError> {
        let make: fn(Regex) -> Pred = match name {
            "h" => |r| Pred::Header(r, Side::Either),
            "hq" => |r| Pred::Header(r, Side::Request),
            "hs" => |r| Pred::Header(r, Side::Response),
            "b" => |r| Pred::Body(r, Side::Either),
            "bq" => |r| Pred::Body(r, Side::Request),
            "bs" => |r| Pred::Body(r, Side::Response),
            "t" => |r| Pred::ContentType(r, Side::Either),
            "tq" => |r| Pred::ContentType(r, Side::Request),
            "ts" => |r| Pred::ContentType(r, Side::Response),
            "d" => Pred::Domain,
            "m" => Pred::Method,
            "u" => Pred::Url,
            "p" => Pred::Provider,
            "model" => Pred::Model,
            "tool" => Pred::Tool,
            "app" => Pred::App,
            "" => return Err(FilterError::new(col, "expected a filter name after '~'")),
            other => {
                return Err(FilterError::new(
                    col,
                    format!("unknown filter ~{other}; {}", super::KNOWN),
                ));
            }
        };
        let (value, vcol) = self.value(name)?;
        Ok(Node::Pred(make(regex(&value, vcol, &format!("~{name}"))?)))
    }

    fn value(&mut self, name: &str) -> Result<(String, usize), FilterError> {
        match self.peek() {
            Some(Token {
                tok: Tok::Value(v),
                col,
            }) => {
                let out = (v.clone(), *col);
                self.pos += 1;
                Ok(out)
            }
            _ => {
                let at = self.col();
                Err(FilterError::new(
                    at,
                    format!("expected a value after ~{name}"),
                ))
            }
        }
    }

    fn status(&mut self) -> Result<StatusPattern, FilterError> {
        let (value, vcol) = self.value("c")?;
        StatusPattern::parse(&value).ok_or_else(|| {
            FilterError::new(
                vcol,
                format!("expected a status code after ~c (like 200 or 4xx), found {value:?}"),
            )
        })
    }
}

/// Compile a case-insensitive regex, as mitmproxy does.
fn regex(pattern: &str, col: usize, what: &str) -> Result<Regex, FilterError> {
    RegexBuilder::new(pattern)
        .case_insensitive(true)
        .size_limit(1 << 20)
        .build()
        .map_err(|e| {
            let reason = e.to_string();
            let last = reason
                .lines()
                .last()
                .unwrap_or("invalid")
                .trim()
                .to_string();
            FilterError::new(
                col,
                format!("invalid regular expression for {what}: {last}"),
            )
        })
}

//! The grammar, with nom:
//!
//! ```text
//! filter     = or EOF
//! or         = and ("OR" and)*
//! and        = not ("AND" not)*
//! not        = "NOT"* primary
//! primary    = "(" or ")" | condition
//! condition  = value ( ("=" | "!=" | ">" | ">=" | "<" | "<=") value
//!                    | "IN" list | "NOT" "IN" list | "EXISTS" | "NOT" "EXISTS"
//!                    | "IS" "NOT"? ("NULL" | "EMPTY") | value "TO" value )
//! list       = "[" (value ("," value)* ","?)? "]"
//! value      = word | 'single quoted' | "double quoted"   (backslash escapes the next character)
//! ```
//!
//! A failure after an operator or keyword is final (nom's `cut`), so the error names what was
//! expected right there instead of backtracking to a less helpful place.

use std::borrow::Cow;

use nom::IResult;
use nom::branch::alt;
use nom::bytes::complete::{tag, tag_no_case, take_while, take_while1};
use nom::character::complete::char;
use nom::combinator::{cut, map, not, opt, peek, verify};
use nom::error::{ContextError, ErrorKind, ParseError, context};
use nom::multi::{many0, separated_list0};
use nom::sequence::{pair, preceded, terminated, tuple};

use super::{Condition, Filter, FilterError, MAX_FILTER_CHARS, MAX_FILTER_DEPTH, Op, Token};

/// Words with a meaning in the grammar; as values they must be quoted.
const KEYWORDS: [&str; 9] = ["AND", "OR", "NOT", "TO", "IN", "EXISTS", "IS", "NULL", "EMPTY"];

/// A parse error: where, and what was expected there when known.
#[derive(Debug)]
pub(super) struct Error<'a> {
    input: &'a str,
    expected: Option<Cow<'static, str>>,
}

impl<'a> ParseError<&'a str> for Error<'a> {
    fn from_error_kind(input: &'a str, _kind: ErrorKind) -> Self {
        Self { input, expected: None }
    }

    fn append(_input: &'a str, _kind: ErrorKind, other: Self) -> Self {
        other
    }

    /// Of two failed alternatives, the one that got further; on a tie, the one that says why.
    fn or(self, other: Self) -> Self {
        match self.input.len().cmp(&other.input.len()) {
            std::cmp::Ordering::Less => self,
            std::cmp::Ordering::Greater => other,
            std::cmp::Ordering::Equal if self.expected.is_some() => self,
            std::cmp::Ordering::Equal => other,
        }
    }
}

impl<'a> ContextError<&'a str> for Error<'a> {
    /// The innermost context says what was expected, unless the failure is where the outer
    /// context began (nothing of it was read): then the outer one says it better ("a condition
    /// after `AND`" rather than "an attribute name").
    fn add_context(input: &'a str, ctx: &'static str, mut other: Self) -> Self {
        if other.expected.is_none() || input.trim_start().len() == other.input.len() {
            other.expected = Some(Cow::Borrowed(ctx));
        }
        other
    }
}

type Res<'a, T> = IResult<&'a str, T, Error<'a>>;

fn failure<T>(input: &str, expected: impl Into<Cow<'static, str>>) -> Res<'_, T> {
    Err(nom::Err::Failure(Error { input, expected: Some(expected.into()) }))
}

/// Characters a word may hold: anything but white space, quotes, brackets, commas and the
/// comparison characters.
pub(super) fn is_word_char(c: char) -> bool {
    !c.is_whitespace() && !matches!(c, '\'' | '"' | '(' | ')' | '[' | ']' | ',' | '=' | '!' | '<' | '>' | '\\')
}

fn is_keyword(word: &str) -> bool {
    KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(word))
}

/// Whether `text` can be written without quotes.
pub(super) fn is_plain_word(text: &str) -> bool {
    !text.is_empty() && text.chars().all(is_word_char) && !is_keyword(text)
}

fn ws(input: &str) -> Res<'_, &str> {
    take_while(char::is_whitespace)(input)
}

/// A keyword, in any case, not followed by more of a word.
fn keyword(kw: &'static str) -> impl FnMut(&str) -> Res<'_, &str> {
    move |input| terminated(tag_no_case(kw), not(peek(take_while1(is_word_char))))(input)
}

/// A word that is not a keyword. The token's column holds the remaining input's length until
/// [`parse`] turns it into a column.
fn word(input: &str) -> Res<'_, Token> {
    let remaining = input.len();
    map(verify(take_while1(is_word_char), |w: &str| !is_keyword(w)), move |w: &str| Token {
        text: w.to_string(),
        column: remaining,
    })(input)
}

/// A single- or double-quoted string; a backslash escapes the character after it.
fn quoted(input: &str) -> Res<'_, Token> {
    let mut chars = input.char_indices();
    let quote = match chars.next() {
        Some((_, q @ ('"' | '\''))) => q,
        _ => return Err(nom::Err::Error(Error { input, expected: None })),
    };
    let mut text = String::new();
    let mut escaped = false;
    for (at, c) in chars {
        if escaped {
            text.push(c);
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == quote {
            return Ok((&input[at + c.len_utf8()..], Token { text, column: input.len() }));
        } else {
            text.push(c);
        }
    }
    failure(&input[input.len()..], format!("a closing `{quote}`"))
}

fn value(input: &str) -> Res<'_, Token> {
    preceded(ws, alt((quoted, word)))(input)
}

/// `[a, b, …]`.
fn list(input: &str) -> Res<'_, Vec<Token>> {
    preceded(
        pair(ws, cut(context("a `[` to start the list", char('[')))),
        cut(terminated(
            terminated(separated_list0(preceded(ws, char(',')), value), opt(preceded(ws, char(',')))),
            preceded(ws, context("a value, `,` or `]`", char(']'))),
        )),
    )(input)
}

/// What is expected after each comparison.
const COMPARISONS: [(&str, &str); 6] = [
    (">=", "a value after `>=`"),
    ("<=", "a value after `<=`"),
    ("!=", "a value after `!=`"),
    ("=", "a value after `=`"),
    (">", "a value after `>`"),
    ("<", "a value after `<`"),
];

fn comparison(input: &str) -> Res<'_, Op> {
    for (symbol, expected) in COMPARISONS {
        if let Ok((rest, _)) = tag::<_, _, Error<'_>>(symbol)(input) {
            let (rest, v) = cut(context(expected, value))(rest)?;
            let op = match symbol {
                ">=" => Op::GreaterOrEqual(v),
                "<=" => Op::LessOrEqual(v),
                "!=" => Op::NotEqual(v),
                "=" => Op::Equal(v),
                ">" => Op::Greater(v),
                _ => Op::Less(v),
            };
            return Ok((rest, op));
        }
    }
    Err(nom::Err::Error(Error { input, expected: None }))
}

/// `IN`, `NOT IN`, `NOT EXISTS`, `EXISTS`, `IS [NOT] NULL|EMPTY`.
fn keyword_op(input: &str) -> Res<'_, Op> {
    alt((
        preceded(keyword("IN"), map(list, Op::In)),
        preceded(
            pair(keyword("NOT"), ws),
            cut(context(
                "`IN` or `EXISTS` after `NOT`",
                alt((preceded(keyword("IN"), map(list, Op::NotIn)), map(keyword("EXISTS"), |_| Op::NotExists))),
            )),
        ),
        map(keyword("EXISTS"), |_| Op::Exists),
        preceded(
            pair(keyword("IS"), ws),
            cut(alt((
                preceded(
                    pair(keyword("NOT"), ws),
                    context(
                        "`NULL` or `EMPTY` after `IS NOT`",
                        alt((map(keyword("NULL"), |_| Op::IsNotNull), map(keyword("EMPTY"), |_| Op::IsNotEmpty))),
                    ),
                ),
                context(
                    "`NOT`, `NULL` or `EMPTY` after `IS`",
                    alt((map(keyword("NULL"), |_| Op::IsNull), map(keyword("EMPTY"), |_| Op::IsEmpty))),
                ),
            ))),
        ),
    ))(input)
}

/// `from TO to`.
fn between(input: &str) -> Res<'_, Op> {
    let (rest, from) = alt((quoted, word))(input)?;
    let (rest, _) = preceded(ws, keyword("TO"))(rest)?;
    let (rest, to) = cut(context("a value after `TO`", value))(rest)?;
    Ok((rest, Op::Between { from, to }))
}

fn condition(input: &str) -> Res<'_, Filter> {
    let (rest, field) = context("an attribute name, `NOT` or `(`", alt((quoted, word)))(input)?;
    let (rest, _) = ws(rest)?;
    match alt((comparison, keyword_op, between))(rest) {
        Ok((rest, op)) => Ok((rest, Filter::Condition(Condition { field, op }))),
        Err(nom::Err::Error(_)) => failure(
            rest,
            format!(
                "an operator after `{}` (=, !=, >, >=, <, <=, TO, IN, NOT IN, EXISTS, NOT EXISTS, IS NULL, IS EMPTY)",
                field.text
            ),
        ),
        Err(e) => Err(e),
    }
}

fn primary(input: &str) -> Res<'_, Filter> {
    preceded(
        ws,
        alt((preceded(char('('), cut(terminated(or, preceded(ws, context("a closing `)`", char(')')))))), condition)),
    )(input)
}

fn negation(input: &str) -> Res<'_, Filter> {
    let (rest, nots) = many0(preceded(ws, keyword("NOT")))(input)?;
    if nots.len() > MAX_FILTER_DEPTH {
        return failure(input, format!("at most {MAX_FILTER_DEPTH} `NOT` in a row"));
    }
    let (rest, mut filter) =
        if nots.is_empty() { primary(rest)? } else { cut(context("a condition after `NOT`", primary))(rest)? };
    for _ in 0..nots.len() {
        filter = Filter::Not(Box::new(filter));
    }
    Ok((rest, filter))
}

fn and(input: &str) -> Res<'_, Filter> {
    let (rest, first) = negation(input)?;
    let (rest, more) =
        many0(preceded(tuple((ws, keyword("AND"))), cut(context("a condition after `AND`", negation))))(rest)?;
    Ok((rest, join(first, more, Filter::And)))
}

fn or(input: &str) -> Res<'_, Filter> {
    let (rest, first) = and(input)?;
    let (rest, more) = many0(preceded(tuple((ws, keyword("OR"))), cut(context("a condition after `OR`", and))))(rest)?;
    Ok((rest, join(first, more, Filter::Or)))
}

fn join(first: Filter, more: Vec<Filter>, all: fn(Vec<Filter>) -> Filter) -> Filter {
    if more.is_empty() {
        return first;
    }
    let mut parts = Vec::with_capacity(more.len() + 1);
    parts.push(first);
    parts.extend(more);
    all(parts)
}

/// The 1-based column, in characters, of `rest` within `text`.
fn column(text: &str, remaining: usize) -> usize {
    text[..text.len() - remaining].chars().count() + 1
}

/// Parentheses nested deeper than [`MAX_FILTER_DEPTH`], outside quotes: the column of the first
/// one too deep.
fn too_deep(text: &str) -> Option<usize> {
    let (mut depth, mut quote, mut escaped) = (0usize, None, false);
    for (i, c) in text.chars().enumerate() {
        match (quote, c) {
            (Some(_), _) if escaped => escaped = false,
            (Some(_), '\\') => escaped = true,
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '(') => {
                depth += 1;
                if depth > MAX_FILTER_DEPTH {
                    return Some(i + 1);
                }
            }
            (None, ')') => depth = depth.saturating_sub(1),
            (None, _) => {}
        }
    }
    None
}

fn locate(filter: &mut Filter, text: &str) {
    let fix = |t: &mut Token| t.column = column(text, t.column);
    match filter {
        Filter::And(parts) | Filter::Or(parts) => parts.iter_mut().for_each(|p| locate(p, text)),
        Filter::Not(part) => locate(part, text),
        Filter::Condition(c) => {
            fix(&mut c.field);
            match &mut c.op {
                Op::Equal(v)
                | Op::NotEqual(v)
                | Op::Greater(v)
                | Op::GreaterOrEqual(v)
                | Op::Less(v)
                | Op::LessOrEqual(v) => fix(v),
                Op::Between { from, to } => {
                    fix(from);
                    fix(to);
                }
                Op::In(values) | Op::NotIn(values) => values.iter_mut().for_each(fix),
                Op::Exists | Op::NotExists | Op::IsNull | Op::IsNotNull | Op::IsEmpty | Op::IsNotEmpty => {}
            }
        }
    }
}

pub(super) fn parse(text: &str) -> Result<Filter, FilterError> {
    let error = |column: usize, message: String| FilterError { column, message, path: String::new() };
    let chars = text.chars().count();
    if chars > MAX_FILTER_CHARS {
        return Err(error(
            MAX_FILTER_CHARS + 1,
            format!("a filter is at most {MAX_FILTER_CHARS} characters, this one has {chars}"),
        ));
    }
    if let Some(at) = too_deep(text) {
        return Err(error(at, format!("parentheses nest at most {MAX_FILTER_DEPTH} deep")));
    }
    if text.trim().is_empty() {
        return Err(error(1, "expected a filter, found nothing".into()));
    }
    match or(text) {
        Ok((rest, mut filter)) => {
            let trailing = rest.trim_start();
            if !trailing.is_empty() {
                let what = if trailing.starts_with(')') { "an unmatched `)`" } else { "more" };
                return Err(error(
                    column(text, trailing.len()),
                    format!("expected `AND`, `OR` or the end of the filter, found {what}"),
                ));
            }
            locate(&mut filter, text);
            Ok(filter)
        }
        Err(nom::Err::Error(e) | nom::Err::Failure(e)) => {
            let expected = e.expected.unwrap_or(Cow::Borrowed("an attribute name, `NOT` or `(`"));
            Err(error(column(text, e.input.len()), format!("expected {expected}")))
        }
        Err(nom::Err::Incomplete(_)) => Err(error(chars + 1, "expected more".into())),
    }
}

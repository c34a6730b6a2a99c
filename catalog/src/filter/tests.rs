use proptest::prelude::*;

use super::*;
use crate::attributes::AttributeSchema;

fn cond(field: &str, op: Op) -> Filter {
    Filter::Condition(Condition { field: Token::new(field), op })
}

fn t(text: &str) -> Token {
    Token::new(text)
}

fn parse(text: &str) -> Filter {
    Filter::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn error(text: &str) -> String {
    Filter::parse(text).map(|f| format!("parsed: {f:?}")).unwrap_or_else(|e| e.to_string())
}

#[test]
fn every_operator_parses() {
    let cases = [
        ("colour = red", cond("colour", Op::Equal(t("red")))),
        ("colour != 'dark red'", cond("colour", Op::NotEqual(t("dark red")))),
        ("price > 10", cond("price", Op::Greater(t("10")))),
        ("price >= 10.5", cond("price", Op::GreaterOrEqual(t("10.5")))),
        ("price < -3", cond("price", Op::Less(t("-3")))),
        ("price<=7", cond("price", Op::LessOrEqual(t("7")))),
        ("price 10 TO 20", cond("price", Op::Between { from: t("10"), to: t("20") })),
        ("size IN [s, m, \"x l\"]", cond("size", Op::In(vec![t("s"), t("m"), t("x l")]))),
        ("size NOT IN [s,]", cond("size", Op::NotIn(vec![t("s")]))),
        ("size IN []", cond("size", Op::In(vec![]))),
        ("size EXISTS", cond("size", Op::Exists)),
        ("size NOT EXISTS", cond("size", Op::NotExists)),
        ("size IS NULL", cond("size", Op::IsNull)),
        ("size IS NOT NULL", cond("size", Op::IsNotNull)),
        ("size is empty", cond("size", Op::IsEmpty)),
        ("size IS NOT EMPTY", cond("size", Op::IsNotEmpty)),
        ("specs.voltage = 18", cond("specs.voltage", Op::Equal(t("18")))),
        ("\"a field\" = x", cond("a field", Op::Equal(t("x")))),
        ("updated_at > 2026-01-01T00:00:00Z", cond("updated_at", Op::Greater(t("2026-01-01T00:00:00Z")))),
        (r#"title = "say \"hi\" \\ bye""#, cond("title", Op::Equal(t(r#"say "hi" \ bye"#)))),
        ("brand = 'Ben\\'s'", cond("brand", Op::Equal(t("Ben's")))),
        ("brand = \"AND\"", cond("brand", Op::Equal(t("AND")))),
    ];
    for (text, expected) in cases {
        assert_eq!(parse(text), expected, "{text}");
    }
}

#[test]
fn and_binds_tighter_than_or_and_not_tighter_than_both() {
    let a = cond("a", Op::Equal(t("1")));
    let b = cond("b", Op::Equal(t("2")));
    let c = cond("c", Op::Equal(t("3")));
    assert_eq!(parse("a = 1 OR b = 2 AND c = 3"), Filter::Or(vec![a.clone(), Filter::And(vec![b.clone(), c.clone()])]));
    assert_eq!(parse("NOT a = 1 AND b = 2"), Filter::And(vec![Filter::Not(Box::new(a.clone())), b.clone()]));
    assert_eq!(
        parse("(a = 1 OR b = 2) and c = 3"),
        Filter::And(vec![Filter::Or(vec![a.clone(), b.clone()]), c.clone()])
    );
    assert_eq!(parse("a = 1 AND b = 2 AND c = 3"), Filter::And(vec![a.clone(), b.clone(), c.clone()]));
    assert_eq!(parse("NOT NOT a = 1"), Filter::Not(Box::new(Filter::Not(Box::new(a)))));
}

#[test]
fn columns_point_at_tokens() {
    let f = parse("colour = red AND  size IN [s]");
    let Filter::And(parts) = f else { panic!() };
    let Filter::Condition(c) = &parts[1] else { panic!() };
    assert_eq!(c.field.column, 19);
    let Op::In(values) = &c.op else { panic!() };
    assert_eq!(values[0].column, 28);
    // Columns count characters, not bytes.
    let Filter::Condition(c) = parse("größe = ß") else { panic!() };
    let Op::Equal(v) = c.op else { panic!() };
    assert_eq!(v.column, 9);
}

#[test]
fn errors_name_the_column_and_what_was_expected() {
    let cases = [
        ("colour =", "at column 9: expected a value after `=`"),
        ("colour = AND", "at column 10: expected a value after `=`"),
        ("colour", "at column 7: expected an operator after `colour`"),
        ("colour red", "at column 8: expected an operator after `colour`"),
        ("price 10 TO", "at column 12: expected a value after `TO`"),
        ("size IN s", "at column 9: expected a `[` to start the list"),
        ("size IN [s m]", "at column 12: expected a value, `,` or `]`"),
        ("size NOT s", "at column 10: expected `IN` or `EXISTS` after `NOT`"),
        ("size IS blue", "at column 9: expected `NOT`, `NULL` or `EMPTY` after `IS`"),
        ("a = 1 AND", "at column 10: expected a condition after `AND`"),
        ("a = 1 OR OR b = 2", "at column 10: expected a condition after `OR`"),
        ("NOT", "at column 4: expected a condition after `NOT`"),
        ("(a = 1", "at column 7: expected a closing `)`"),
        ("a = 1)", "at column 6: expected `AND`, `OR` or the end of the filter, found an unmatched `)`"),
        ("a = 1 b = 2", "at column 7: expected `AND`, `OR` or the end of the filter, found more"),
        ("a = 'open", "at column 10: expected a closing `'`"),
        ("= 1", "at column 1: expected an attribute name, `NOT` or `(`"),
        ("   ", "at column 1: expected a filter, found nothing"),
    ];
    for (text, expected) in cases {
        let got = error(text);
        assert!(got.starts_with(expected), "{text:?}: {got}");
    }
}

#[test]
fn length_and_nesting_are_bounded() {
    let deep = format!("{}a = 1{}", "(".repeat(MAX_FILTER_DEPTH + 1), ")".repeat(MAX_FILTER_DEPTH + 1));
    assert_eq!(error(&deep), format!("at column {}: parentheses nest at most 20 deep", MAX_FILTER_DEPTH + 1));
    let fine = format!("{}a = 1{}", "(".repeat(MAX_FILTER_DEPTH), ")".repeat(MAX_FILTER_DEPTH));
    parse(&fine);
    // Parentheses inside quotes do not count.
    parse(&format!("a = \"{}\"", "(".repeat(100)));
    let nots = format!("{}a = 1", "NOT ".repeat(MAX_FILTER_DEPTH + 1));
    assert!(error(&nots).contains("at most 20 `NOT` in a row"), "{}", error(&nots));
    let long = format!("a IN [{}]", vec!["x"; 3000].join(","));
    assert!(error(&long).contains("at most 4096 characters"));
}

#[test]
fn the_array_form_is_or_inside_and_across() {
    let value = serde_json::json!([["colour = red", "colour = blue"], "price < 50"]);
    let expected = Filter::And(vec![
        Filter::Or(vec![cond("colour", Op::Equal(t("red"))), cond("colour", Op::Equal(t("blue")))]),
        cond("price", Op::Less(t("50"))),
    ]);
    assert_eq!(Filter::from_json(&value).unwrap(), expected);
    assert_eq!(Filter::from_json(&serde_json::json!("a = 1")).unwrap(), cond("a", Op::Equal(t("1"))));
    assert_eq!(Filter::from_json(&serde_json::json!(["a = 1"])).unwrap(), cond("a", Op::Equal(t("1"))));
    let e = Filter::from_json(&serde_json::json!(["a = 1", ["b = 2", "c ="]])).unwrap_err();
    assert_eq!(e.to_string(), "filter[1][1]: at column 4: expected a value after `=`");
    let e = Filter::from_json(&serde_json::json!([1])).unwrap_err();
    assert_eq!(e.to_string(), "filter[0]: at column 1: expected a filter string or an array of them");
    assert!(Filter::from_json(&serde_json::json!([])).is_err());
    assert!(Filter::from_json(&serde_json::json!([[]])).is_err());
    assert!(Filter::from_json(&serde_json::json!([["a = 1", ["b = 2"]]])).is_err());
}

#[test]
fn fields_lists_every_attribute() {
    let f = parse("a = 1 AND (b EXISTS OR NOT c IN [x])");
    let names: Vec<&str> = f.fields().iter().map(|t| t.text.as_str()).collect();
    assert_eq!(names, ["a", "b", "c"]);
}

/// Words and strings a filter may hold: plain words, keywords, quotes, backslashes, spaces,
/// brackets, non-ASCII.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z][a-z0-9_.]{0,8}",
        "-?[0-9]{1,4}(\\.[0-9]{1,2})?",
        Just("AND".to_string()),
        Just("not".to_string()),
        "[ a-zA-Z'\"\\\\()\\[\\],=<>!éß]{0,10}",
    ]
}

fn token() -> impl Strategy<Value = Token> {
    text().prop_map(Token::new)
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        token().prop_map(Op::Equal),
        token().prop_map(Op::NotEqual),
        token().prop_map(Op::Greater),
        token().prop_map(Op::GreaterOrEqual),
        token().prop_map(Op::Less),
        token().prop_map(Op::LessOrEqual),
        (token(), token()).prop_map(|(from, to)| Op::Between { from, to }),
        prop::collection::vec(token(), 0..4).prop_map(Op::In),
        prop::collection::vec(token(), 0..4).prop_map(Op::NotIn),
        Just(Op::Exists),
        Just(Op::NotExists),
        Just(Op::IsNull),
        Just(Op::IsNotNull),
        Just(Op::IsEmpty),
        Just(Op::IsNotEmpty),
    ]
}

/// Filters in the form the parser produces: `AND` and `OR` of two or more parts, an `AND` never
/// directly inside an `AND` (nor `OR` in `OR`) unless it was parenthesized — which printing does.
fn filter() -> impl Strategy<Value = Filter> {
    let leaf = (token(), op()).prop_map(|(field, op)| Filter::Condition(Condition { field, op }));
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 2..4).prop_map(Filter::And),
            prop::collection::vec(inner.clone(), 2..4).prop_map(Filter::Or),
            inner.prop_map(|f| Filter::Not(Box::new(f))),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

    /// Printing then parsing gives the same filter back, whatever the words hold.
    #[test]
    fn printed_filters_parse_back(f in filter()) {
        let text = f.to_string();
        prop_assume!(text.chars().count() <= MAX_FILTER_CHARS);
        let parsed = Filter::parse(&text);
        prop_assert_eq!(parsed.as_ref().ok(), Some(&f), "{} → {:?}", text, parsed);
    }

}

/// Any string: a filter or an error whose column lies within the text (or just after it), and a
/// parsed filter resolves or names a column. A million strings under CI (`CI=true`), 20,000
/// otherwise; `SEARCHD_FUZZ_CASES` sets the number.
#[test]
fn any_string_parses_or_names_a_column() {
    let default = if std::env::var("CI").is_ok_and(|v| v == "true") { 1_000_000 } else { 20_000 };
    let cases = std::env::var("SEARCHD_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    let strings = prop_oneof![
        "[ a-zA-Z0-9_.'\"\\\\()\\[\\],=<>!-]{0,40}",
        "\\PC{0,40}",
        filter()
            .prop_map(|f| f.to_string())
            .prop_flat_map(|s| {
                let n = s.chars().count();
                (Just(s), 0..=n, "[ ()\\[\\]'\",=!<>a-zA-Z]{0,3}")
            })
            .prop_map(|(s, at, junk)| {
                // A printed filter with a few characters put in somewhere.
                let cut = s.char_indices().nth(at).map_or(s.len(), |(i, _)| i);
                format!("{}{junk}{}", &s[..cut], &s[cut..])
            }),
    ];
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    runner
        .run(&strings, |s| {
            match Filter::parse(&s) {
                Ok(f) => {
                    // Resolved against declared attributes: a filter, or an error at a column.
                    if let Err(e) = f.resolve(&schema()) {
                        prop_assert!(e.column >= 1 && e.column <= s.chars().count(), "{:?}: {}", s, e);
                    }
                    prop_assert_eq!(Filter::parse(&f.to_string()).ok(), Some(f))
                }
                Err(e) => {
                    prop_assert!(e.column >= 1 && e.column <= s.chars().count() + 1, "{:?}: {}", s, e);
                    prop_assert!(e.message.starts_with("expected") || e.message.contains("at most"), "{}", e);
                }
            }
            Ok(())
        })
        .unwrap();
}

fn resolve_error(text: &str) -> String {
    match Filter::parse(text).map(|f| f.resolve(&schema())) {
        Ok(Ok(r)) => format!("resolved: {r:?}"),
        Ok(Err(e)) | Err(e) => e.to_string(),
    }
}

#[test]
fn built_in_fields_resolve_with_their_types() {
    use std::ops::Bound;
    let r = |text: &str| Filter::parse(text).unwrap().resolve(&AttributeSchema::default()).unwrap();
    assert_eq!(
        r("price > 10"),
        Resolved::Range(Field::Builtin(Builtin::Price), Bound::Excluded(10.0), Bound::Unbounded)
    );
    assert_eq!(
        r("rating 3 TO 4.5"),
        Resolved::Range(Field::Builtin(Builtin::Rating), Bound::Included(3.0), Bound::Included(4.5))
    );
    assert_eq!(
        r("updated_at >= 2026-01-01T00:00:00Z"),
        Resolved::Range(Field::Builtin(Builtin::UpdatedAt), Bound::Included(1_767_225_600.0), Bound::Unbounded)
    );
    assert_eq!(r("in_stock = TRUE"), Resolved::AnyOf(Field::Builtin(Builtin::InStock), vec![Value::Bool(true)]));
    assert_eq!(
        r("brand != Bosch"),
        Resolved::Not(Box::new(Resolved::AnyOf(Field::Builtin(Builtin::Brand), vec![Value::Text("Bosch".into())])))
    );
    assert_eq!(r("category IS NULL"), Resolved::Not(Box::new(Resolved::Exists(Field::Builtin(Builtin::Category)))));
    assert_eq!(
        r("review_count IN [1, 2]"),
        Resolved::Or(vec![
            Resolved::Range(Field::Builtin(Builtin::ReviewCount), Bound::Included(1.0), Bound::Included(1.0)),
            Resolved::Range(Field::Builtin(Builtin::ReviewCount), Bound::Included(2.0), Bound::Included(2.0)),
        ])
    );
}

#[test]
fn unknown_attributes_and_wrong_types_name_the_column() {
    let cases = [
        (
            "colour = red",
            "at column 1: `colour` is not filterable; filterable attributes: brand, category, currency, in_stock, language, \
             popularity, price, rating, released, review_count, size, specs.voltage, updated_at",
        ),
        ("size > 3", "at column 1: `size` holds a keyword: a range does not apply to it"),
        ("material = wood", "at column 1: `material` is not filterable"),
        ("price = cheap", "at column 9: `price` takes a number, not `cheap`"),
        ("brand > B", "at column 1: `brand` holds a keyword: a range does not apply to it"),
        ("in_stock = maybe", "at column 12: `in_stock` is true or false, not `maybe`"),
        ("price IS EMPTY", "at column 1: `price` holds a number: IS EMPTY does not apply to it"),
        ("updated_at < yesterday", "at column 14: `updated_at` takes a date (RFC 3339, or Unix seconds)"),
        ("a = 1 OR brand = x", "at column 1: `a` is not filterable"),
    ];
    for (text, expected) in cases {
        let got = resolve_error(text);
        assert!(got.starts_with(expected), "{text:?}: {got}");
    }
}

#[test]
fn a_search_request_reads_the_filter_from_a_string_or_the_array_form() {
    let request: crate::SearchRequest = serde_json::from_value(
        serde_json::json!({"q": "drill", "filter": [["brand = Bosch", "brand = Makita"], "price < 100"]}),
    )
    .unwrap();
    assert_eq!(request.filter.as_ref().unwrap().to_string(), "(brand = Bosch OR brand = Makita) AND price < 100");
    request.validate(&AttributeSchema::default()).unwrap();
    // Written back as the canonical text.
    let json = serde_json::to_value(&request).unwrap();
    assert_eq!(json["filter"], "(brand = Bosch OR brand = Makita) AND price < 100");
    let bad = serde_json::from_value::<crate::SearchRequest>(serde_json::json!({"filter": "price <"}));
    assert!(bad.unwrap_err().to_string().contains("at column 8: expected a value after `<`"));
    let request: crate::SearchRequest = serde_json::from_value(serde_json::json!({"filter": "colour = red"})).unwrap();
    let e = request.validate(&AttributeSchema::default()).unwrap_err();
    assert_eq!(e.param(), "filter");
    assert!(e.to_string().contains("`colour` is not filterable"), "{e}");
}

/// `size` and `weight` filterable, `released` a filterable date, `material` declared but only
/// facetable, `specs.voltage` a filterable number.
fn schema() -> AttributeSchema {
    use crate::attributes::{AttributeSettings, AttributeType};
    let mut schema = AttributeSchema::default();
    for (name, kind) in [
        ("size", AttributeType::Keyword),
        ("released", AttributeType::Date),
        ("specs.voltage", AttributeType::Number),
        ("material", AttributeType::Keyword),
    ] {
        let mut settings = AttributeSettings::filterable(kind);
        settings.filterable = name != "material";
        schema.0.insert(name.to_string(), settings);
    }
    schema
}

#[test]
fn declared_attributes_resolve_with_their_types() {
    use crate::attributes::AttributeType;
    use std::ops::Bound;
    let r = |text: &str| Filter::parse(text).unwrap().resolve(&schema()).unwrap();
    let volts = Field::Attribute("specs.voltage".into(), AttributeType::Number);
    assert_eq!(r("specs.voltage > 12"), Resolved::Range(volts.clone(), Bound::Excluded(12.0), Bound::Unbounded));
    let size = Field::Attribute("size".into(), AttributeType::Keyword);
    assert_eq!(
        r("size IN [' M ', L]"),
        Resolved::AnyOf(size.clone(), vec![Value::Text("M".into()), Value::Text("L".into())])
    );
    assert_eq!(r("size IS NULL"), Resolved::IsNull(size.clone()));
    assert_eq!(r("size IS NOT EMPTY"), Resolved::Not(Box::new(Resolved::IsEmpty(size.clone()))));
    assert_eq!(r("size NOT EXISTS"), Resolved::Not(Box::new(Resolved::Exists(size))));
    assert_eq!(
        resolve_error("released > soon"),
        "at column 12: `released` takes a date (RFC 3339, or Unix seconds), not `soon`"
    );
}

//! A record as a reader found it, before the furnishing rules: the format-neutral draft both
//! readers produce and `validate_record` checks. A JSON Lines record is its parsed line, every
//! value still to be checked for its type; a Metro 2 record is built field by field from its
//! segments (`metro2::import`), each value already of its kind, in objects that say which
//! segment they came from. Either way the rules see the furnishing format's fields, and each
//! broken rule names the field where the furnisher wrote it: `subjects[1].birth_date` in a JSON
//! line, `J1[1].date_of_birth` in a Metro 2 record (the one correspondence of the two formats is
//! `metro2::map`).

use std::borrow::Cow;

use metro2::SegmentKind;

use super::json::Json;
use crate::model::Date;

/// A record read, with where its fields came from.
pub struct Draft<'d> {
    pub(crate) record: Value<'d>,
    pub(crate) origin: Origin,
}

/// Where a draft's fields came from, which names them in errors.
#[derive(Clone, Debug)]
pub(crate) enum Origin {
    /// A JSON line: fields are named by their path in the line.
    JsonLines,
    /// A Metro 2 data record: the base segment holds the account and its first consumer;
    /// `consumers[i]` is the segment (and which of its kind) subject `i` came from.
    Metro2 { consumers: Vec<Segment> },
}

/// A segment of a Metro 2 record: its kind, and which of that kind it is (from 1; the base
/// segment is 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Segment {
    pub kind: SegmentKind,
    pub ordinal: usize,
}

impl<'d> Draft<'d> {
    /// A parsed JSON line.
    pub fn from_json(line: &'d Json<'d>) -> Draft<'d> {
        Draft { record: Value::Json(line), origin: Origin::JsonLines }
    }

    /// A record built from a Metro 2 data record's segments.
    pub(crate) fn from_metro2(record: Object<'d>, consumers: Vec<Segment>) -> Draft<'d> {
        Draft { record: Value::Object(record), origin: Origin::Metro2 { consumers } }
    }
}

/// A value in a draft.
#[derive(Debug, PartialEq)]
pub(crate) enum Value<'d> {
    /// As written in a JSON line: any JSON value, its type for the rules to check.
    Json(&'d Json<'d>),
    /// Read from a fixed-width field of its kind.
    Text(Cow<'d, str>),
    Whole(u64),
    Date(Date),
    /// A group of fields (a subject, an address), built from a record's segments.
    Object(Object<'d>),
    /// A list of groups (a record's subjects), built from its segments.
    List(Vec<Value<'d>>),
}

/// Fields built by a reader, by their furnishing names; a field absent is not listed.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Object<'d> {
    pub fields: Vec<(&'static str, Value<'d>)>,
}

impl<'d> Object<'d> {
    pub fn with_capacity(fields: usize) -> Object<'d> {
        Object { fields: Vec::with_capacity(fields) }
    }

    pub fn put(&mut self, name: &'static str, value: Value<'d>) {
        self.fields.push((name, value));
    }

    /// Puts `value` unless there is none.
    pub fn put_some(&mut self, name: &'static str, value: Option<Value<'d>>) {
        if let Some(value) = value {
            self.fields.push((name, value));
        }
    }
}

/// A value as the rules look at it: a view into a draft, two words wide (the rules copy it
/// into a slot per field of every record).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Found<'r> {
    Json(&'r Json<'r>),
    Text(&'r Cow<'r, str>),
    Whole(u64),
    Date(Date),
    Object(&'r Object<'r>),
    List(&'r Vec<Value<'r>>),
}

impl<'r> Found<'r> {
    pub fn of(value: &'r Value<'r>) -> Found<'r> {
        match value {
            Value::Json(json) => Found::Json(json),
            Value::Text(text) => Found::Text(text),
            Value::Whole(n) => Found::Whole(*n),
            Value::Date(date) => Found::Date(*date),
            Value::Object(object) => Found::Object(object),
            Value::List(items) => Found::List(items),
        }
    }

    /// How the value's type is named in messages: "a string", "an object", …
    pub fn kind(self) -> &'static str {
        match self {
            Found::Json(json) => json.kind(),
            Found::Text(_) | Found::Date(_) => "a string",
            Found::Whole(_) => "an integer",
            Found::Object(_) => "an object",
            Found::List(_) => "an array",
        }
    }

    /// The text of a string value.
    pub fn text(self) -> Option<&'r str> {
        match self {
            Found::Json(Json::Str(text)) => Some(text),
            Found::Text(text) => Some(&**text),
            _ => None,
        }
    }
}

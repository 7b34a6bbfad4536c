//! OpenAPI schemas for the types with hand-written serde (code lists, ratings, months,
//! currencies), so the API document says exactly what goes over the wire.

use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};

pub(crate) fn string_enum(values: &[&str]) -> RefOr<Schema> {
    ObjectBuilder::new().schema_type(Type::String).enum_values(Some(values.iter().copied())).into()
}

pub(crate) fn string_pattern(pattern: &str, description: &str) -> RefOr<Schema> {
    ObjectBuilder::new().schema_type(Type::String).pattern(Some(pattern)).description(Some(description)).into()
}

macro_rules! string_schema {
    ($ty:ty, $body:expr) => {
        impl utoipa::PartialSchema for $ty {
            fn schema() -> RefOr<Schema> {
                $body
            }
        }
        impl utoipa::ToSchema for $ty {}
    };
}

string_schema!(
    crate::model::Timestamp,
    ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(utoipa::openapi::schema::SchemaFormat::KnownFormat(utoipa::openapi::schema::KnownFormat::DateTime)))
        .into()
);
string_schema!(crate::model::Currency, string_pattern("^[A-Z]{3}$", "ISO 4217 currency code"));
string_schema!(crate::model::Rating, {
    let characters: Vec<String> = crate::model::Rating::CHARACTERS.chars().map(String::from).collect();
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(characters))
        .description(Some("Metro 2 payment rating of one month"))
        .into()
});
string_schema!(crate::report::YearMonth, string_pattern("^[0-9]{4}-[0-9]{2}$", "calendar month YYYY-MM"));

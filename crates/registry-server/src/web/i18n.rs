//! The pages' languages: Simplified Chinese, English and Dutch. Every string a page shows
//! comes from a Fluent catalogue (`locales/*.ftl`, compiled into the binary); amounts, dates
//! and percentages are formatted for the language here.

use std::sync::LazyLock;

use axum::http::HeaderMap;
use axum::http::request::Parts;
use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use registry_core::model::{Currency, Date};

/// A language the pages speak.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    ZhCn,
    En,
    Nl,
}

impl Lang {
    pub const ALL: [Lang; 3] = [Lang::ZhCn, Lang::En, Lang::Nl];

    /// The BCP 47 tag, as `<html lang>` and `?lang=` say it.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::ZhCn => "zh-CN",
            Lang::En => "en",
            Lang::Nl => "nl",
        }
    }

    /// The language's own name for itself, for the switch.
    pub fn endonym(self) -> &'static str {
        match self {
            Lang::ZhCn => "中文",
            Lang::En => "English",
            Lang::Nl => "Nederlands",
        }
    }

    pub fn parse(tag: &str) -> Option<Lang> {
        let tag = tag.trim().to_ascii_lowercase();
        match tag.as_str() {
            "zh" | "zh-cn" | "zh-hans" | "zh-hans-cn" | "zh-sg" => Some(Lang::ZhCn),
            "en" => Some(Lang::En),
            "nl" => Some(Lang::Nl),
            _ => {
                let primary = tag.split('-').next()?;
                match primary {
                    "zh" => Some(Lang::ZhCn),
                    "en" => Some(Lang::En),
                    "nl" => Some(Lang::Nl),
                    _ => None,
                }
            }
        }
    }

    /// The language of a request: `?lang=`, else the `lang` cookie, else the best of
    /// `Accept-Language` by its weights, else Chinese (the registry's first market).
    pub fn of_request(parts: &Parts) -> Lang {
        Lang::from_query(parts.uri.query()).or_else(|| cookie(&parts.headers, LANG_COOKIE).and_then(|v| Lang::parse(&v))).unwrap_or_else(
            || parts.headers.get(axum::http::header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).map_or(Lang::ZhCn, accept_language),
        )
    }

    /// The language a query string's `lang=` names, if it names one of these.
    pub fn from_query(query: Option<&str>) -> Option<Lang> {
        query.and_then(|q| q.split('&').find_map(|pair| pair.strip_prefix("lang="))).and_then(Lang::parse)
    }

    fn index(self) -> usize {
        self as usize
    }
}

pub const LANG_COOKIE: &str = "lang";

/// A cookie's value from the request's `Cookie` headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
}

/// The best language `Accept-Language` asks for (RFC 9110 §12.5.4): the highest weight,
/// the first listed among equals.
fn accept_language(header: &str) -> Lang {
    let mut best: Option<(f32, Lang)> = None;
    for item in header.split(',') {
        let mut parts = item.split(';');
        let Some(lang) = parts.next().and_then(Lang::parse) else { continue };
        let weight = parts.find_map(|p| p.trim().strip_prefix("q=")).and_then(|q| q.parse::<f32>().ok()).unwrap_or(1.0);
        if weight > 0.0 && best.is_none_or(|(w, _)| weight > w) {
            best = Some((weight, lang));
        }
    }
    best.map_or(Lang::ZhCn, |(_, lang)| lang)
}

type Bundle = FluentBundle<FluentResource>;

static BUNDLES: LazyLock<[Bundle; 3]> = LazyLock::new(|| {
    Lang::ALL.map(|lang| {
        let source = match lang {
            Lang::ZhCn => include_str!("locales/zh-CN.ftl"),
            Lang::En => include_str!("locales/en.ftl"),
            Lang::Nl => include_str!("locales/nl.ftl"),
        };
        let resource = FluentResource::try_new(source.to_owned()).unwrap_or_else(|(_, errors)| panic!("{}.ftl: {errors:?}", lang.tag()));
        let id: unic_langid::LanguageIdentifier = lang.tag().parse().expect("a language tag");
        let mut bundle = FluentBundle::new_concurrent(vec![id]);
        // Isolation marks would sit inside HTML text and attributes; the pages set `dir`.
        bundle.set_use_isolating(false);
        bundle.add_resource(resource).expect("no message defined twice");
        bundle
    })
});

/// The message `id` in `lang` (the English one if `lang` lacks it, the id if both do: a test
/// checks that every catalogue has every message).
pub fn t(lang: Lang, id: &str) -> String {
    format(lang, id, None)
}

/// The message `id` with its arguments.
pub fn t_with(lang: Lang, id: &str, args: &[(&str, FluentValue<'_>)]) -> String {
    let mut fluent_args = FluentArgs::new();
    for (name, value) in args {
        fluent_args.set(*name, value.clone());
    }
    format(lang, id, Some(&fluent_args))
}

fn format(lang: Lang, id: &str, args: Option<&FluentArgs<'_>>) -> String {
    for bundle in [&BUNDLES[lang.index()], &BUNDLES[Lang::En.index()]] {
        if let Some(pattern) = bundle.get_message(id).and_then(|m| m.value()) {
            let mut errors = Vec::new();
            return bundle.format_pattern(pattern, args, &mut errors).into_owned();
        }
    }
    id.to_owned()
}

/// Every message id of a language's catalogue (for the test that they all have the same).
pub fn message_ids(lang: Lang) -> Vec<String> {
    let source = match lang {
        Lang::ZhCn => include_str!("locales/zh-CN.ftl"),
        Lang::En => include_str!("locales/en.ftl"),
        Lang::Nl => include_str!("locales/nl.ftl"),
    };
    let resource = FluentResource::try_new(source.to_owned()).unwrap_or_else(|(resource, _)| resource);
    resource
        .entries()
        .filter_map(|entry| match entry {
            fluent_syntax::ast::Entry::Message(m) => Some(m.id.name.to_owned()),
            _ => None,
        })
        .collect()
}

/// An integer with the language's digit grouping: 1,234,567 (Chinese, English) or 1.234.567
/// (Dutch). Written here rather than with ICU: three languages with fixed conventions, and
/// ICU's decimal data would be most of the binary's locale weight.
pub fn integer(lang: Lang, n: u128) -> String {
    let digits = n.to_string();
    let separator = if lang == Lang::Nl { '.' } else { ',' };
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(separator);
        }
        out.push(c);
    }
    out
}

/// An amount in minor units as the language writes money: ¥1,234.56 (Chinese, English),
/// ¥ 1.234,56 (Dutch); currencies without a sign of their own are written by code.
pub fn amount(lang: Lang, minor: u128, currency: Currency) -> String {
    let exponent = u32::from(currency.exponent().unwrap_or(0));
    let unit = 10u128.pow(exponent);
    let whole = integer(lang, minor / unit);
    let number = if exponent == 0 {
        whole
    } else {
        let decimal = if lang == Lang::Nl { ',' } else { '.' };
        format!("{whole}{decimal}{:0width$}", minor % unit, width = exponent as usize)
    };
    let sign = match currency.code() {
        "CNY" | "JPY" => Some("¥"),
        "USD" => Some("$"),
        "EUR" => Some("€"),
        "GBP" => Some("£"),
        _ => None,
    };
    match (sign, lang) {
        (Some(sign), Lang::Nl) => format!("{sign} {number}"),
        (Some(sign), _) => format!("{sign}{number}"),
        (None, _) => format!("{} {number}", currency.code()),
    }
}

/// A share (0.125) as a percentage with one decimal: 12.5% (Chinese, English), 12,5% (Dutch).
pub fn percent(lang: Lang, share: f64) -> String {
    let text = format!("{:.1}", share * 100.0);
    if lang == Lang::Nl { format!("{}%", text.replace('.', ",")) } else { format!("{text}%") }
}

/// A date as the language writes it: 2026年10月31日, 31 Oct 2026, 31 okt 2026.
pub fn date(lang: Lang, d: Date) -> String {
    use chrono::Datelike;
    match lang {
        Lang::ZhCn => format!("{}年{}月{}日", d.year(), d.month(), d.day()),
        _ => format!("{} {} {}", d.day(), t(lang, &format!("month-{}", d.month())), d.year()),
    }
}

/// A month (the payment grid's columns): 2026年10月, Oct 2026, okt 2026.
pub fn month(lang: Lang, year: i32, month: u32) -> String {
    match lang {
        Lang::ZhCn => format!("{year}年{month}月"),
        _ => format!("{} {year}", t(lang, &format!("month-{month}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_catalogue_has_every_message() {
        let english: std::collections::BTreeSet<String> = message_ids(Lang::En).into_iter().collect();
        assert!(english.len() > 100, "{}", english.len());
        for lang in [Lang::ZhCn, Lang::Nl] {
            let ids: std::collections::BTreeSet<String> = message_ids(lang).into_iter().collect();
            assert_eq!(ids.difference(&english).collect::<Vec<_>>(), Vec::<&String>::new(), "{} has messages English lacks", lang.tag());
            assert_eq!(english.difference(&ids).collect::<Vec<_>>(), Vec::<&String>::new(), "{} lacks messages", lang.tag());
        }
        // And every code the pages name has a message.
        for product in registry_core::model::Product::ALL {
            assert_ne!(t(Lang::Nl, &format!("product-{}", product.as_str())), format!("product-{}", product.as_str()));
        }
        for status in registry_core::model::Status::ALL {
            assert_ne!(t(Lang::ZhCn, &format!("status-{}", status.as_str())), format!("status-{}", status.as_str()));
        }
        for attribute in registry_score::attributes::CATALOGUE {
            assert_ne!(t(Lang::ZhCn, &format!("reason-{}", attribute.code)), format!("reason-{}", attribute.code));
        }
    }

    #[test]
    fn numbers_dates_and_languages() {
        let cny = Currency::from_code("CNY").unwrap();
        assert_eq!(amount(Lang::ZhCn, 123_456_789, cny), "¥1,234,567.89");
        assert_eq!(amount(Lang::En, 5, cny), "¥0.05");
        assert_eq!(amount(Lang::Nl, 123_456_789, cny), "¥ 1.234.567,89");
        assert_eq!(amount(Lang::En, 100, Currency::from_code("CHF").unwrap()), "CHF 1.00");
        assert_eq!(percent(Lang::Nl, 0.125), "12,5%");
        assert_eq!(percent(Lang::En, 0.125), "12.5%");
        let d = Date::from_ymd_opt(2026, 10, 31).unwrap();
        assert_eq!(date(Lang::ZhCn, d), "2026年10月31日");
        assert_eq!(date(Lang::En, d), "31 Oct 2026");
        assert_eq!(date(Lang::Nl, d), "31 okt 2026");
        assert_eq!(accept_language("nl-BE,nl;q=0.9,en;q=0.8"), Lang::Nl);
        assert_eq!(accept_language("fr;q=1, en;q=0.5, zh-CN;q=0.7"), Lang::ZhCn);
        assert_eq!(accept_language("de"), Lang::ZhCn);
        assert_eq!(accept_language("en-GB"), Lang::En);
    }
}

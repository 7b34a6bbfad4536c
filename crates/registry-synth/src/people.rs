//! Synthetic people: names, national identifiers (PRC resident identity numbers with valid
//! check characters, or US social security numbers), birth dates, contact details, latent
//! credit risk, and the spelling variants furnishers introduce.

use chrono::Datelike;
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use registry_core::identity::cn_rid_check_char;
use registry_core::model::{Address, Date, IdType, NationalId, Pii, ReportedIdentity, Role, SubjectDetails};

use crate::{Market, normal, rng_for};

/// County-level administrative codes (the first six characters of a `cn_rid`) with their city.
const REGIONS: &[(&str, &str, &str)] = &[
    ("110105", "Beijing", "Beijing"),
    ("110108", "Beijing", "Beijing"),
    ("310115", "Shanghai", "Shanghai"),
    ("310104", "Shanghai", "Shanghai"),
    ("440305", "Shenzhen", "Guangdong"),
    ("440106", "Guangzhou", "Guangdong"),
    ("330106", "Hangzhou", "Zhejiang"),
    ("330102", "Hangzhou", "Zhejiang"),
    ("320102", "Nanjing", "Jiangsu"),
    ("320508", "Suzhou", "Jiangsu"),
    ("510107", "Chengdu", "Sichuan"),
    ("500103", "Chongqing", "Chongqing"),
    ("420106", "Wuhan", "Hubei"),
    ("610113", "Xi'an", "Shaanxi"),
    ("430104", "Changsha", "Hunan"),
    ("370202", "Qingdao", "Shandong"),
    ("350203", "Xiamen", "Fujian"),
    ("120101", "Tianjin", "Tianjin"),
    ("410105", "Zhengzhou", "Henan"),
    ("530102", "Kunming", "Yunnan"),
];

/// Common surnames in pinyin, with the older or Cantonese romanisation some furnishers
/// still use (a real source of "same person, different spelling").
const FAMILY_NAMES: &[(&str, &str)] = &[
    ("Wang", "Wong"),
    ("Li", "Lee"),
    ("Zhang", "Chang"),
    ("Liu", "Lau"),
    ("Chen", "Chan"),
    ("Yang", "Yeung"),
    ("Huang", "Wong"),
    ("Zhao", "Chao"),
    ("Wu", "Ng"),
    ("Zhou", "Chou"),
    ("Xu", "Hsu"),
    ("Sun", "Suen"),
    ("Ma", "Mah"),
    ("Zhu", "Chu"),
    ("Hu", "Woo"),
    ("Guo", "Kuo"),
    ("He", "Ho"),
    ("Gao", "Kao"),
    ("Lin", "Lam"),
    ("Luo", "Lo"),
    ("Zheng", "Cheng"),
    ("Liang", "Leung"),
    ("Xie", "Tse"),
    ("Song", "Sung"),
    ("Tang", "Tong"),
    ("Lü", "Lv"),
    ("Xu", "Tsui"),
    ("Han", "Hon"),
    ("Feng", "Fung"),
    ("Deng", "Tang"),
];

const GIVEN_SYLLABLES: &[&str] = &[
    "Wei", "Fang", "Na", "Min", "Jing", "Li", "Qiang", "Lei", "Jun", "Yang", "Yong", "Yan", "Jie", "Tao", "Ming", "Chao", "Xiu", "Xia",
    "Hui", "Hua", "Ping", "Gang", "Gui", "Ying", "Xin", "Yu", "Hao", "Zi", "Han", "Chen", "Yi", "Kai", "Lan", "Mei", "Rui", "Ning",
];

const STREETS: &[&str] = &[
    "Renmin",
    "Jiefang",
    "Zhongshan",
    "Heping",
    "Jianshe",
    "Xinhua",
    "Changjiang",
    "Wenhua",
    "Yingbin",
    "Dongfeng",
    "Huaihai",
    "Binjiang",
];

/// US surnames with a spelling some furnishers use instead.
const US_FAMILY_NAMES: &[(&str, &str)] = &[
    ("SMITH", "SMYTH"),
    ("JOHNSON", "JONSON"),
    ("WILLIAMS", "WILLIAMSON"),
    ("BROWN", "BROWNE"),
    ("JONES", "JONES-HALL"),
    ("GARCIA", "GARCIA LOPEZ"),
    ("MILLER", "MILLAR"),
    ("DAVIS", "DAVIES"),
    ("RODRIGUEZ", "RODRIGUES"),
    ("MARTINEZ", "MARTINES"),
    ("HERNANDEZ", "HERNANDES"),
    ("LOPEZ", "LOPES"),
    ("GONZALEZ", "GONZALES"),
    ("WILSON", "WILLSON"),
    ("ANDERSON", "ANDERSEN"),
    ("TAYLOR", "TAILOR"),
    ("MOORE", "MOOR"),
    ("JACKSON", "JAKSON"),
    ("MARTIN", "MARTYN"),
    ("LEE", "LEIGH"),
    ("PEREZ", "PERES"),
    ("THOMPSON", "THOMSON"),
    ("WHITE", "WHYTE"),
    ("HARRIS", "HARRISS"),
    ("CLARK", "CLARKE"),
    ("LEWIS", "LEWES"),
    ("NGUYEN", "NGUEN"),
    ("CHEN", "CHAN"),
    ("KIM", "GIM"),
    ("PATEL", "PATTEL"),
];

const US_GIVEN_NAMES: &[&str] = &[
    "JAMES",
    "MARY",
    "JOHN",
    "PATRICIA",
    "ROBERT",
    "JENNIFER",
    "MICHAEL",
    "LINDA",
    "WILLIAM",
    "ELIZABETH",
    "DAVID",
    "BARBARA",
    "RICHARD",
    "SUSAN",
    "JOSEPH",
    "JESSICA",
    "THOMAS",
    "SARAH",
    "CHARLES",
    "KAREN",
    "CHRISTOPHER",
    "LISA",
    "DANIEL",
    "NANCY",
    "MATTHEW",
    "BETTY",
    "ANTHONY",
    "MARGARET",
    "MARK",
    "SANDRA",
    "MARIA",
    "JOSE",
    "WEI",
    "AMIT",
];

/// City, state, ZIP code.
const US_CITIES: &[(&str, &str, &str)] = &[
    ("SPRINGFIELD", "IL", "62701"),
    ("COLUMBUS", "OH", "43215"),
    ("AUSTIN", "TX", "78701"),
    ("DENVER", "CO", "80202"),
    ("PORTLAND", "OR", "97201"),
    ("ATLANTA", "GA", "30303"),
    ("PHOENIX", "AZ", "85004"),
    ("SEATTLE", "WA", "98101"),
    ("BOSTON", "MA", "02108"),
    ("MIAMI", "FL", "33130"),
    ("CHICAGO", "IL", "60601"),
    ("DALLAS", "TX", "75201"),
    ("MADISON", "WI", "53703"),
    ("RALEIGH", "NC", "27601"),
    ("NASHVILLE", "TN", "37201"),
    ("SALT LAKE CITY", "UT", "84101"),
    ("MINNEAPOLIS", "MN", "55401"),
    ("ALBANY", "NY", "12207"),
    ("RICHMOND", "VA", "23219"),
    ("SACRAMENTO", "CA", "95814"),
];

const US_STREETS: &[&str] = &["MAIN", "OAK", "PINE", "MAPLE", "CEDAR", "ELM", "WASHINGTON", "LAKE", "HILL", "PARK", "SECOND", "THIRD"];

/// One synthetic person, fully determined by the seed and their index.
#[derive(Clone, Debug)]
pub struct Person {
    pub index: u32,
    /// Latent credit risk, standard normal: drives delinquency, borrowing and cures.
    pub risk: f64,
    /// Appetite for credit, standard normal, correlated with risk.
    pub hunger: f64,
    /// Annual income in yuan.
    pub income_yuan: f64,
    pub birth: Date,
    pub id: NationalId,
    family: &'static str,
    /// The surname as some furnishers spell it.
    family_variant: &'static str,
    pub given: String,
    /// The given name as some furnishers write it without it being a disagreement ("Xiao
    /// Ming" for "Xiaoming"; a middle initial), when there is such a form.
    given_variant: Option<String>,
    pub phone: String,
    pub address: Address,
    /// A foreign resident identified by passport (`other`), whose birth date some
    /// furnishers get wrong.
    pub foreign: bool,
}

impl Person {
    pub fn generate(seed: u64, index: u32, first_month_start: Date, market: Market) -> Person {
        let mut rng = rng_for(seed, "person", u64::from(index));
        let risk = normal(&mut rng);
        let hunger = 0.5 * risk + 0.866 * normal(&mut rng);
        let income_yuan = (11.4 + 0.55 * normal(&mut rng) - 0.15 * risk).exp();
        // Ages 20 to 70 at the start of the simulation, younger people more common.
        let age_days = (20.0 * 365.25 + rng.random::<f64>().powf(1.4) * 50.0 * 365.25) as i64;
        let birth = first_month_start - chrono::Duration::days(age_days);
        if market == Market::Us {
            return Person::american(seed, index, risk, hunger, income_yuan, birth, &mut rng);
        }
        let (region, city, province) = REGIONS[rng.random_range(0..REGIONS.len())];
        let foreign = rng.random_bool(0.02);
        let id = if foreign {
            NationalId { id_type: IdType::Other, id: Pii(format!("E{:08}", rng.random_range(0..100_000_000u32))) }
        } else {
            let sequence = rng.random_range(0..1000u32);
            NationalId { id_type: IdType::CnRid, id: Pii(make_cn_rid(region, birth, sequence)) }
        };
        let (family, family_variant) = FAMILY_NAMES[rng.random_range(0..FAMILY_NAMES.len())];
        let syllables = if rng.random_bool(0.7) { 2 } else { 1 };
        let given_parts: Vec<&'static str> = (0..syllables).map(|_| GIVEN_SYLLABLES[rng.random_range(0..GIVEN_SYLLABLES.len())]).collect();
        let given: String = given_parts.iter().enumerate().map(|(i, s)| if i == 0 { s.to_string() } else { s.to_lowercase() }).collect();
        let phone = format!("+861{}{:09}", [3, 5, 7, 8, 9][rng.random_range(0..5usize)], rng.random_range(0..1_000_000_000u32));
        let address = Address {
            line1: format!("No. {} {} Road", rng.random_range(1..400u32), STREETS[rng.random_range(0..STREETS.len())]),
            line2: rng.random_bool(0.6).then(|| format!("Apt {}-{}", rng.random_range(1..30u32), rng.random_range(101..2800u32))),
            city: city.to_string(),
            region: Some(province.to_string()),
            postal_code: Some(format!("{}0", &region[..5])),
            country: "CN".to_string(),
        };
        let given_variant = (given_parts.len() > 1).then(|| given_parts.join(" "));
        Person { index, risk, hunger, income_yuan, birth, id, family, family_variant, given, given_variant, phone, address, foreign }
    }

    /// A person of the US market: a social security number unique to the index, an American
    /// name and address. Amounts stay as simulated (read as dollars).
    fn american(seed: u64, index: u32, risk: f64, hunger: f64, income: f64, birth: Date, rng: &mut ChaCha8Rng) -> Person {
        let id = NationalId { id_type: IdType::Ssn, id: Pii(make_ssn(seed, index)) };
        let (family, family_variant) = US_FAMILY_NAMES[rng.random_range(0..US_FAMILY_NAMES.len())];
        let given = US_GIVEN_NAMES[rng.random_range(0..US_GIVEN_NAMES.len())].to_string();
        let initial = char::from(b'A' + rng.random_range(0..26u8));
        let phone = format!("{}{:09}", rng.random_range(2..10u32), rng.random_range(0..1_000_000_000u32));
        let (city, state, zip) = US_CITIES[rng.random_range(0..US_CITIES.len())];
        let address = Address {
            line1: format!("{} {} ST", rng.random_range(1..9000u32), US_STREETS[rng.random_range(0..US_STREETS.len())]),
            line2: rng.random_bool(0.3).then(|| format!("APT {}", rng.random_range(1..500u32))),
            city: city.to_string(),
            region: Some(state.to_string()),
            postal_code: Some(zip.to_string()),
            country: "US".to_string(),
        };
        let given_variant = Some(format!("{given} {initial}"));
        Person {
            index,
            risk,
            hunger,
            income_yuan: income,
            birth,
            id,
            family,
            family_variant,
            given,
            given_variant,
            phone,
            address,
            foreign: false,
        }
    }

    pub fn family(&self) -> &'static str {
        self.family
    }

    /// A family name that is not this person's in any spelling: what a furnisher that put the
    /// identifier on the wrong person would report (a planted identity defect).
    pub fn someone_elses_family_name(&self) -> &'static str {
        let names: Vec<&'static str> = FAMILY_NAMES.iter().chain(US_FAMILY_NAMES).map(|(name, _)| *name).collect();
        let start = self.index as usize % names.len();
        (0..names.len())
            .map(|i| names[(start + 7 + i) % names.len()])
            .find(|name| {
                !registry_core::quality::identity::same_family_name(name, self.family)
                    && !registry_core::quality::identity::same_family_name(name, self.family_variant)
            })
            .unwrap_or("Ouyang")
    }

    /// How `furnisher` has this person on file: usually exactly, sometimes with another
    /// romanisation of the surname, the given name split in two, or (for passport holders)
    /// day and month of birth swapped.
    pub fn as_reported_by(&self, seed: u64, furnisher: usize, role: Role, market: Market) -> SubjectDetails {
        let mut rng = rng_for(seed, "variant", (u64::from(self.index) << 8) | furnisher as u64);
        let mut family = self.family().to_string();
        let mut given = self.given.clone();
        let mut birth = self.birth;
        let roll = rng.random::<f64>();
        if roll < 0.025 {
            family = self.family_variant.to_string();
        } else if roll < 0.05
            && let Some(variant) = &self.given_variant
        {
            // "Xiaoming" as "Xiao Ming": kept as reported, but not a disagreement.
            given.clone_from(variant);
        }
        if self.foreign
            && roll > 0.8
            && birth.day() <= 12
            && birth.day() != birth.month()
            && let Some(swapped) = Date::from_ymd_opt(birth.year(), birth.day(), birth.month())
        {
            birth = swapped;
        }
        // Metro 2 requires the primary consumer's address: in the US market they always have one.
        let with_contact = rng.random_bool(0.7) || (market == Market::Us && role == Role::Primary);
        SubjectDetails {
            role,
            id: self.id.clone(),
            family_name: Pii(family),
            given_name: Pii(given),
            birth_date: (role == Role::Primary || rng.random_bool(0.8)).then_some(Pii(birth)),
            phone: with_contact.then(|| Pii(self.phone.clone())),
            address: with_contact.then(|| Pii(self.address.clone())),
        }
    }

    pub fn age_on(&self, date: Date) -> i32 {
        registry_core::model::age_years(self.birth, date)
    }

    /// The identity exactly as the person is (for examples and tests).
    pub fn identity(&self) -> ReportedIdentity {
        ReportedIdentity {
            family_name: Pii(self.family().to_string()),
            given_name: Pii(self.given.clone()),
            birth_date: Some(Pii(self.birth)),
            phone: None,
            address: None,
        }
    }
}

/// A resident identity number: region, birth date, sequence, check character.
pub fn make_cn_rid(region: &str, birth: Date, sequence: u32) -> String {
    let body = format!("{region}{}{:03}", birth.format("%Y%m%d"), sequence % 1000);
    let digits: [u8; 17] = body.as_bytes().try_into().expect("6 + 8 + 3 digits");
    format!("{body}{}", cn_rid_check_char(&digits))
}

/// A valid social security number for person `index`: area 100 to 665 (never 666 or 9xx),
/// group 01 to 99, serial 0001 to 9999, one per index (up to 56 million), shifted by the seed.
pub fn make_ssn(seed: u64, index: u32) -> String {
    let n = u64::from(index);
    let serial = n % 9999 + 1;
    let group = (n / 9999) % 99 + 1;
    let area = 100 + (seed % 566 + n / (9999 * 99)) % 566;
    format!("{area:03}{group:02}{serial:04}")
}

/// A region code for `cn_rid`s made up outside `Person` (the corruption of ages).
pub fn some_region(rng: &mut ChaCha8Rng) -> &'static str {
    REGIONS[rng.random_range(0..REGIONS.len())].0
}

#[cfg(test)]
mod tests {
    use super::*;
    use registry_core::identity::check_id;

    #[test]
    fn people_are_deterministic_and_have_valid_identifiers() {
        let start: Date = "2024-01-01".parse().unwrap();
        for index in 0..500 {
            let a = Person::generate(7, index, start, Market::Cn);
            let b = Person::generate(7, index, start, Market::Cn);
            assert_eq!(a.id, b.id);
            assert_eq!(a.given, b.given);
            let embedded = check_id(a.id.id_type, &a.id.id).unwrap();
            if a.id.id_type == IdType::CnRid {
                assert_eq!(embedded, Some(a.birth));
            }
            let age = a.age_on(start);
            assert!((19..=71).contains(&age), "{age}");
        }
        assert_ne!(Person::generate(7, 1, start, Market::Cn).id, Person::generate(8, 1, start, Market::Cn).id);
    }

    #[test]
    fn americans_have_distinct_valid_social_security_numbers() {
        let start: Date = "2024-01-01".parse().unwrap();
        let mut seen = std::collections::HashSet::new();
        for index in (0..2_000).chain([9_998, 9_999, 989_900, 989_901, 49_999_999]) {
            let ssn = make_ssn(5, index);
            check_id(IdType::Ssn, &ssn).unwrap_or_else(|e| panic!("{ssn}: {e:?}"));
            assert!(seen.insert(ssn));
        }
        let person = Person::generate(5, 3, start, Market::Us);
        assert_eq!(person.id.id_type, IdType::Ssn);
        let reported = person.as_reported_by(5, 2, Role::Primary, Market::Us);
        assert!(reported.address.is_some() && reported.family_name.is_ascii());
    }

    #[test]
    fn some_furnishers_spell_names_differently() {
        let start: Date = "2024-01-01".parse().unwrap();
        let mut different = 0;
        for index in 0..400 {
            let person = Person::generate(3, index, start, Market::Cn);
            let a = person.as_reported_by(3, 0, Role::Primary, Market::Cn);
            let b = person.as_reported_by(3, 1, Role::Primary, Market::Cn);
            if a.family_name != b.family_name || a.given_name != b.given_name {
                different += 1;
            }
        }
        assert!((5..80).contains(&different), "{different}");
    }
}

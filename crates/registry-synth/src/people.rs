//! Synthetic people: names, PRC resident identity numbers with valid check characters, birth
//! dates, contact details, latent credit risk, and the spelling variants furnishers introduce.

use chrono::Datelike;
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use registry_core::identity::cn_rid_check_char;
use registry_core::model::{Address, Date, IdType, NationalId, Pii, ReportedIdentity, Role, SubjectDetails};

use crate::{normal, rng_for};

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
    ("Wang", "Wong"), ("Li", "Lee"), ("Zhang", "Chang"), ("Liu", "Lau"), ("Chen", "Chan"),
    ("Yang", "Yeung"), ("Huang", "Wong"), ("Zhao", "Chao"), ("Wu", "Ng"), ("Zhou", "Chou"),
    ("Xu", "Hsu"), ("Sun", "Suen"), ("Ma", "Mah"), ("Zhu", "Chu"), ("Hu", "Woo"),
    ("Guo", "Kuo"), ("He", "Ho"), ("Gao", "Kao"), ("Lin", "Lam"), ("Luo", "Lo"),
    ("Zheng", "Cheng"), ("Liang", "Leung"), ("Xie", "Tse"), ("Song", "Sung"), ("Tang", "Tong"),
    ("Lü", "Lv"), ("Xu", "Tsui"), ("Han", "Hon"), ("Feng", "Fung"), ("Deng", "Tang"),
];

const GIVEN_SYLLABLES: &[&str] = &[
    "Wei", "Fang", "Na", "Min", "Jing", "Li", "Qiang", "Lei", "Jun", "Yang", "Yong", "Yan",
    "Jie", "Tao", "Ming", "Chao", "Xiu", "Xia", "Hui", "Hua", "Ping", "Gang", "Gui", "Ying",
    "Xin", "Yu", "Hao", "Zi", "Han", "Chen", "Yi", "Kai", "Lan", "Mei", "Rui", "Ning",
];

const STREETS: &[&str] = &[
    "Renmin", "Jiefang", "Zhongshan", "Heping", "Jianshe", "Xinhua", "Changjiang", "Wenhua",
    "Yingbin", "Dongfeng", "Huaihai", "Binjiang",
];

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
    family_index: usize,
    /// Syllables of the given name: "Xiao", "ming" make "Xiaoming".
    given_parts: Vec<&'static str>,
    pub given: String,
    pub phone: String,
    pub address: Address,
    /// A foreign resident identified by passport (`other`), whose birth date some
    /// furnishers get wrong.
    pub foreign: bool,
}

impl Person {
    pub fn generate(seed: u64, index: u32, first_month_start: Date) -> Person {
        let mut rng = rng_for(seed, "person", u64::from(index));
        let risk = normal(&mut rng);
        let hunger = 0.5 * risk + 0.866 * normal(&mut rng);
        let income_yuan = (11.4 + 0.55 * normal(&mut rng) - 0.15 * risk).exp();
        // Ages 20 to 70 at the start of the simulation, younger people more common.
        let age_days = (20.0 * 365.25 + rng.random::<f64>().powf(1.4) * 50.0 * 365.25) as i64;
        let birth = first_month_start - chrono::Duration::days(age_days);
        let (region, city, province) = REGIONS[rng.random_range(0..REGIONS.len())];
        let foreign = rng.random_bool(0.02);
        let id = if foreign {
            NationalId { id_type: IdType::Other, id: Pii(format!("E{:08}", rng.random_range(0..100_000_000u32))) }
        } else {
            let sequence = rng.random_range(0..1000u32);
            NationalId { id_type: IdType::CnRid, id: Pii(make_cn_rid(region, birth, sequence)) }
        };
        let family_index = rng.random_range(0..FAMILY_NAMES.len());
        let syllables = if rng.random_bool(0.7) { 2 } else { 1 };
        let given_parts: Vec<&'static str> =
            (0..syllables).map(|_| GIVEN_SYLLABLES[rng.random_range(0..GIVEN_SYLLABLES.len())]).collect();
        let given: String = given_parts
            .iter()
            .enumerate()
            .map(|(i, s)| if i == 0 { s.to_string() } else { s.to_lowercase() })
            .collect();
        let phone = format!("+861{}{:09}", [3, 5, 7, 8, 9][rng.random_range(0..5usize)], rng.random_range(0..1_000_000_000u32));
        let address = Address {
            line1: format!("No. {} {} Road", rng.random_range(1..400u32), STREETS[rng.random_range(0..STREETS.len())]),
            line2: rng.random_bool(0.6).then(|| format!("Apt {}-{}", rng.random_range(1..30u32), rng.random_range(101..2800u32))),
            city: city.to_string(),
            region: Some(province.to_string()),
            postal_code: Some(format!("{}0", &region[..5])),
            country: "CN".to_string(),
        };
        Person { index, risk, hunger, income_yuan, birth, id, family_index, given_parts, given, phone, address, foreign }
    }

    pub fn family(&self) -> &'static str {
        FAMILY_NAMES[self.family_index].0
    }

    /// How `furnisher` has this person on file: usually exactly, sometimes with another
    /// romanisation of the surname, the given name split in two, or (for passport holders)
    /// day and month of birth swapped.
    pub fn as_reported_by(&self, seed: u64, furnisher: usize, role: Role) -> SubjectDetails {
        let mut rng = rng_for(seed, "variant", (u64::from(self.index) << 8) | furnisher as u64);
        let mut family = self.family().to_string();
        let mut given = self.given.clone();
        let mut birth = self.birth;
        let roll = rng.random::<f64>();
        if roll < 0.025 {
            family = FAMILY_NAMES[self.family_index].1.to_string();
        } else if roll < 0.05 && self.given_parts.len() > 1 {
            // "Xiaoming" as "Xiao Ming": kept as reported, but not a disagreement.
            given = self.given_parts.join(" ");
        }
        if self.foreign && roll > 0.8 && birth.day() <= 12 && birth.day() != birth.month() {
            if let Some(swapped) = Date::from_ymd_opt(birth.year(), birth.day(), birth.month()) {
                birth = swapped;
            }
        }
        let with_contact = rng.random_bool(0.7);
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
            let a = Person::generate(7, index, start);
            let b = Person::generate(7, index, start);
            assert_eq!(a.id, b.id);
            assert_eq!(a.given, b.given);
            let embedded = check_id(a.id.id_type, &a.id.id).unwrap();
            if a.id.id_type == IdType::CnRid {
                assert_eq!(embedded, Some(a.birth));
            }
            let age = a.age_on(start);
            assert!((19..=71).contains(&age), "{age}");
        }
        assert_ne!(Person::generate(7, 1, start).id, Person::generate(8, 1, start).id);
    }

    #[test]
    fn some_furnishers_spell_names_differently() {
        let start: Date = "2024-01-01".parse().unwrap();
        let mut different = 0;
        for index in 0..400 {
            let person = Person::generate(3, index, start);
            let a = person.as_reported_by(3, 0, Role::Primary);
            let b = person.as_reported_by(3, 1, Role::Primary);
            if a.family_name != b.family_name || a.given_name != b.given_name {
                different += 1;
            }
        }
        assert!((5..80).contains(&different), "{different}");
    }
}

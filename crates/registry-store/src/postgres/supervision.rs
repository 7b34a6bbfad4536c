//! The supervision tally computed by PostgreSQL itself: three aggregate queries over the
//! snapshot of the month, in one read snapshot, each grouped so finely that the client only
//! folds a few thousand rows into the `Tally`. Every query reads the records partitioned by
//! `(subject_key, account_key)`, the distribution key first, so a distributed PostgreSQL
//! (Citus) runs the window and the first aggregation on its workers.
//!
//! The codes the SQL compares against (which statuses are open, each status's bucket, the role
//! letter of a terminated subject) are written out from the domain's own definitions, so the
//! SQL and the embedded scan cannot disagree about them.

use std::collections::BTreeSet;

use postgres::types::ToSql;
use registry_core::model::{Currency, Product, Role, Status};
use registry_core::report::{SubjectKey, YearMonth};
use registry_core::supervision::{BorrowerList, BorrowerView, Bucket, LendersBucket, Policy, Tally};

use super::connection::{Connection, PostgresStore, corrupt, in_transaction, map_err};
use crate::{ScanProgress, StoreResult, codec};

/// The dates a month's queries compare with (`as_of` and `opened` are YYYYMMDD integers).
struct Dates {
    /// The last day of `M`, of `M − 1`.
    end: i32,
    previous_end: i32,
    /// The first day of `M − 2`: a latest record older than this is stale.
    snapshot_from: i32,
    /// The first day of `M − 3`: the same for the snapshot of `M − 1`.
    previous_snapshot_from: i32,
    /// The first day of `M`: originations.
    month_from: i32,
    /// The first day of the 24-month window ending with `M`: vintages.
    vintages_from: i32,
    /// The first day of the last 30 days of `M`: stacking.
    stacking_from: i32,
}

impl Dates {
    fn of(month: YearMonth) -> Dates {
        let number = |date| codec::date_number(date) as i32;
        Dates {
            end: number(month.last_day()),
            previous_end: number(month.plus(-1).last_day()),
            snapshot_from: number(month.plus(-2).day(1)),
            previous_snapshot_from: number(month.plus(-3).day(1)),
            month_from: number(month.day(1)),
            vintages_from: number(month.window_24().day(1)),
            stacking_from: number(month.last_day() - chrono::Days::new(29)),
        }
    }
}

fn quoted(statuses: impl Iterator<Item = Status>) -> String {
    statuses.map(|s| format!("'{}'", s.as_str())).collect::<Vec<_>>().join(", ")
}

/// `CASE status WHEN … THEN <bucket index> … END`: each status's bucket, as its index in
/// `Bucket::ALL`.
fn bucket_case(column: &str) -> String {
    let arms = Status::ALL
        .iter()
        .filter_map(|status| Bucket::of(*status).map(|bucket| (status, bucket)))
        .map(|(status, bucket)| format!(" WHEN '{}' THEN {}", status.as_str(), bucket_index(bucket)))
        .collect::<Vec<_>>()
        .concat();
    format!("CASE {column}{arms} END")
}

fn bucket_index(bucket: Bucket) -> i32 {
    Bucket::ALL.iter().position(|b| *b == bucket).expect("a bucket is in ALL") as i32
}

fn bucket_at(index: i32) -> StoreResult<Bucket> {
    usize::try_from(index).ok().and_then(|i| Bucket::ALL.get(i).copied()).ok_or_else(|| corrupt("a bucket index out of range"))
}

fn open_statuses() -> String {
    quoted(Status::ALL.iter().copied().filter(|s| s.is_open()))
}

/// The snapshot of the month, one row per account copy (`primary_only`: one per account) not
/// deleted with a record on or before `$1`; its latest such record's columns, the account's
/// bucket then and in the snapshot of `M − 1`, its first seriously delinquent date, and
/// whether it is open. Parameters: `$1` end, `$2` previous end, `$3` snapshot from, `$4`
/// previous snapshot from.
///
/// Each account's dates come from one aggregation over its records (narrow rows, grouped in
/// key order), and only its latest record is then read whole, by key: far cheaper than
/// carrying every record's columns through a window.
fn snapshot_sql(primary_only: bool) -> String {
    let serious = quoted(Status::ALL.iter().copied().filter(|s| Bucket::of(*s).is_some_and(Bucket::is_seriously_delinquent)));
    let bucket = bucket_case("status");
    let open = open_statuses();
    let primary = if primary_only { "WHERE primary_copy" } else { "" };
    format!(
        "snap AS ( \
           SELECT a.subject_key, sa.furnisher, r.product, r.currency, r.opened, r.balance, r.past_due, r.credit_limit, \
                  r.original_amount, r.subjects, r.funding, r.as_of >= $3 AS in_snapshot, {bucket_r} AS bucket, \
                  (r.as_of >= $3 AND r.status IN ({open}) AND r.closed IS NULL) AS open, \
                  CASE WHEN a.previous / 10 >= $4::int THEN (a.previous % 10)::int END AS previous_bucket, a.first_serious \
           FROM ( \
             SELECT subject_key, account_key, max(as_of) FILTER (WHERE as_of <= $1) AS latest, \
                    max(as_of::bigint * 10 + {bucket}) FILTER (WHERE as_of <= $2) AS previous, \
                    min(as_of) FILTER (WHERE as_of <= $1 AND status IN ({serious})) AS first_serious \
             FROM record {primary} \
             GROUP BY subject_key, account_key \
             HAVING NOT bool_or(status = 'delete') AND max(as_of) FILTER (WHERE as_of <= $1) IS NOT NULL \
           ) a \
           JOIN record r ON r.subject_key = a.subject_key AND r.account_key = a.account_key AND r.as_of = a.latest \
           JOIN subject_account sa ON sa.subject_key = a.subject_key AND sa.account_key = a.account_key)",
        bucket_r = bucket_case("r.status")
    )
}

fn amount(text: Option<String>) -> StoreResult<u128> {
    text.map_or(Ok(0), |text| text.parse().map_err(|_| corrupt("a sum that is not a whole number")))
}

fn month_of(number: i32) -> StoreResult<YearMonth> {
    YearMonth::new(number / 100, (number % 100) as u32).ok_or_else(|| corrupt("a month out of range"))
}

fn product(text: &str) -> StoreResult<Product> {
    text.parse().map_err(|()| corrupt("an unknown product"))
}

fn currency(text: &str) -> StoreResult<Currency> {
    Currency::from_code(text).ok_or_else(|| corrupt("an unknown currency"))
}

/// Markets, credit risk, vintages and the furnishers' account counts, from one query over
/// every account (primary copies).
fn add_accounts(conn: &mut Connection, dates: &Dates, tally: &mut Tally) -> StoreResult<()> {
    let sql = format!(
        "WITH {snap} \
         SELECT furnisher, product, currency, in_snapshot, open, bucket, previous_bucket, \
                CASE WHEN opened BETWEEN $5 AND $1 THEN opened / 100 END AS vintage, \
                CASE WHEN opened BETWEEN $5 AND $1 THEN first_serious / 100 END AS serious_month, \
                count(*), sum(balance)::text, sum(past_due)::text, \
                count(*) FILTER (WHERE opened BETWEEN $6 AND $1), \
                sum(coalesce(original_amount, credit_limit, 0)) FILTER (WHERE opened BETWEEN $6 AND $1)::text \
         FROM snap GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9",
        snap = snapshot_sql(true)
    );
    let params: [&(dyn ToSql + Sync); 6] =
        [&dates.end, &dates.previous_end, &dates.snapshot_from, &dates.previous_snapshot_from, &dates.vintages_from, &dates.month_from];
    for row in conn.query(&sql, &params).map_err(map_err)? {
        let furnisher: String = row.try_get(0).map_err(map_err)?;
        let product = product(row.try_get(1).map_err(map_err)?)?;
        let currency = currency(row.try_get(2).map_err(map_err)?)?;
        let (in_snapshot, open): (bool, bool) = (row.try_get(3).map_err(map_err)?, row.try_get(4).map_err(map_err)?);
        let bucket = bucket_at(row.try_get(5).map_err(map_err)?)?;
        let previous = row.try_get::<_, Option<i32>>(6).map_err(map_err)?.map(bucket_at).transpose()?;
        let vintage = row.try_get::<_, Option<i32>>(7).map_err(map_err)?.map(month_of).transpose()?;
        let serious = row.try_get::<_, Option<i32>>(8).map_err(map_err)?.map(month_of).transpose()?;
        let accounts = row.try_get::<_, i64>(9).map_err(map_err)? as u64;
        let balance = amount(row.try_get(10).map_err(map_err)?)?;
        let past_due = amount(row.try_get(11).map_err(map_err)?)?;
        let originations = row.try_get::<_, i64>(12).map_err(map_err)? as u64;
        let originated = amount(row.try_get(13).map_err(map_err)?)?;

        let counts = tally.furnishers.entry(furnisher.clone()).or_default();
        if in_snapshot {
            counts.accounts_in_snapshot += accounts;
        } else {
            counts.stale_accounts += accounts;
        }
        if let Some(opened) = vintage {
            let sums = tally.vintages.entry((furnisher.clone(), product, opened)).or_default();
            sums.accounts += accounts;
            if let Some(month) = serious {
                *sums.first_serious.entry(month.max(opened)).or_default() += accounts;
            }
        }
        if !in_snapshot {
            continue;
        }
        let market = tally.market.entry((furnisher.clone(), product, currency)).or_default();
        market.past_due += past_due;
        market.originations += originations;
        market.originated_amount += originated;
        let risk = tally.risk.entry((furnisher, product)).or_default();
        if let Some(previous) = previous {
            *risk.roll.entry((previous, bucket)).or_default() += accounts;
        }
        if open {
            market.accounts_open += accounts;
            market.balance_open += balance;
            risk.open_accounts += accounts;
            if bucket.is_30_plus() {
                market.balance_30_plus += balance;
                risk.open_30_plus += accounts;
            }
            if bucket == Bucket::Dpd90Plus {
                market.balance_90_plus += balance;
                risk.open_90_plus += accounts;
            }
        }
    }
    Ok(())
}

/// Co-lending: each open co-lent loan's funding entries, their parts rounded per loan in the
/// database, summed per (furnisher, currency, institution, below the minimum own share).
fn add_co_lending(conn: &mut Connection, dates: &Dates, min_own_share_bp: u32, tally: &mut Tally) -> StoreResult<()> {
    let sql = format!(
        "WITH {snap}, \
         loans AS ( \
           SELECT furnisher, currency, balance, funding, \
                  coalesce((SELECT split_part(x, ':', 2)::int FROM unnest(string_to_array(funding, ';')) x \
                            WHERE split_part(x, ':', 1) = furnisher LIMIT 1), 0) AS own_bp \
           FROM snap WHERE open AND funding IS NOT NULL AND funding <> '') \
         SELECT l.furnisher, l.currency, e.institution, l.own_bp < $5 AS below, \
                count(*) FILTER (WHERE e.ord = 1), (sum(l.balance) FILTER (WHERE e.ord = 1))::text, \
                sum(floor((l.balance::numeric * e.share_bp + 5000) / 10000))::text \
         FROM loans l CROSS JOIN LATERAL ( \
           SELECT split_part(x, ':', 1) AS institution, split_part(x, ':', 2)::int AS share_bp, ord \
           FROM unnest(string_to_array(l.funding, ';')) WITH ORDINALITY AS u(x, ord)) e \
         GROUP BY 1, 2, 3, 4",
        snap = snapshot_sql(true)
    );
    let min = min_own_share_bp as i32;
    let params: [&(dyn ToSql + Sync); 5] = [&dates.end, &dates.previous_end, &dates.snapshot_from, &dates.previous_snapshot_from, &min];
    for row in conn.query(&sql, &params).map_err(map_err)? {
        let furnisher: String = row.try_get(0).map_err(map_err)?;
        let currency = currency(row.try_get(1).map_err(map_err)?)?;
        let institution: String = row.try_get(2).map_err(map_err)?;
        let below: bool = row.try_get(3).map_err(map_err)?;
        let loans = row.try_get::<_, i64>(4).map_err(map_err)? as u64;
        let balance = amount(row.try_get(5).map_err(map_err)?)?;
        let parts = amount(row.try_get(6).map_err(map_err)?)?;
        let sums = tally.co_lending.entry(furnisher.clone()).or_default();
        if loans > 0 {
            sums.loans += loans;
            *sums.balance.entry(currency).or_default() += balance;
            if below {
                sums.loans_below_min_own_share += loans;
                *sums.balance_below_min_own_share.entry(currency).or_default() += balance;
            }
        }
        if institution == furnisher {
            *sums.own_balance.entry(currency).or_default() += parts;
        } else {
            *sums.partner_balance.entry(currency).or_default() += parts;
        }
        *tally.funded.entry((institution, furnisher, currency)).or_default() += parts;
    }
    Ok(())
}

/// Per subject of the month with an open account: distinct open lenders, delinquency, the
/// distinct lenders that opened an account of theirs in the last 30 days, and their open
/// microloans per capped currency. Parameters after the snapshot's: `$5` stacking from, then a
/// currency and its cap per capped currency.
fn borrowers_sql(policy: &Policy, condition: &str, select: &str) -> String {
    let terminated = format!(":{}:", codec::role_letter(Role::Terminated));
    let microloans = (0..policy.microloan_cap_minor.len())
        .map(|i| {
            format!(
                ", coalesce(sum(balance) FILTER (WHERE open AND product = '{microloan}' AND currency = ${c}), 0) AS micro_{i}, \
                 coalesce(sum(balance) FILTER (WHERE open AND product = '{microloan}' AND currency = ${c}), 0) > ${cap}::bigint AS over_{i}",
                microloan = Product::Microloan.as_str(),
                c = 6 + 2 * i,
                cap = 7 + 2 * i
            )
        })
        .collect::<Vec<_>>()
        .concat();
    let delinquent = Bucket::ALL.iter().filter(|b| b.is_30_plus()).map(|b| bucket_index(*b).to_string()).collect::<Vec<_>>().join(", ");
    format!(
        "WITH {snap}, \
         borrower AS ( \
           SELECT subject_key, count(DISTINCT furnisher) FILTER (WHERE open) AS lenders, \
                  coalesce(bool_or(open AND bucket IN ({delinquent})), false) AS delinquent, \
                  count(DISTINCT furnisher) FILTER (WHERE opened BETWEEN $5 AND $1) AS recent, \
                  string_agg(DISTINCT furnisher, ';') FILTER (WHERE opened BETWEEN $5 AND $1) AS recent_openers \
                  {microloans} \
           FROM snap \
           WHERE in_snapshot \
             AND position(';' || subject_key || ':' IN ';' || subjects) > 0 \
             AND position(';' || subject_key || '{terminated}' IN ';' || subjects) = 0 \
           GROUP BY subject_key \
           HAVING count(*) FILTER (WHERE open) > 0) \
         {select} FROM borrower {condition}",
        snap = snapshot_sql(false)
    )
}

fn borrower_params<'p>(dates: &'p Dates, caps: &'p [(String, i64)]) -> Vec<&'p (dyn ToSql + Sync)> {
    let mut params: Vec<&(dyn ToSql + Sync)> =
        vec![&dates.end, &dates.previous_end, &dates.snapshot_from, &dates.previous_snapshot_from, &dates.stacking_from];
    for (code, cap) in caps {
        params.push(code);
        params.push(cap);
    }
    params
}

fn caps_of(policy: &Policy) -> Vec<(String, i64)> {
    policy.microloan_cap_minor.iter().map(|(currency, cap)| (currency.code().to_owned(), i64::try_from(*cap).unwrap_or(i64::MAX))).collect()
}

fn add_borrowers(conn: &mut Connection, dates: &Dates, policy: &Policy, tally: &mut Tally) -> StoreResult<()> {
    let overs = (0..policy.microloan_cap_minor.len()).map(|i| format!(", over_{i}")).collect::<Vec<_>>().concat();
    let sql = borrowers_sql(
        policy,
        &format!("GROUP BY lenders, delinquent, recent >= 2{overs}"),
        &format!("SELECT lenders, delinquent, recent >= 2{overs}, count(*)"),
    );
    let caps = caps_of(policy);
    let currencies: Vec<Currency> = policy.microloan_cap_minor.keys().copied().collect();
    for row in conn.query(&sql, &borrower_params(dates, &caps)).map_err(map_err)? {
        let lenders = row.try_get::<_, i64>(0).map_err(map_err)?;
        let delinquent: bool = row.try_get(1).map_err(map_err)?;
        let stacking: bool = row.try_get(2).map_err(map_err)?;
        let subjects = row.try_get::<_, i64>(3 + currencies.len()).map_err(map_err)? as u64;
        let sums = &mut tally.borrowers;
        sums.subjects += subjects;
        let bucket = sums.by_lenders_open.entry(LendersBucket::of(lenders as usize)).or_default();
        bucket.subjects += subjects;
        if delinquent {
            bucket.delinquent += subjects;
        }
        if stacking {
            sums.stacking_subjects += subjects;
        }
        for (i, currency) in currencies.iter().enumerate() {
            if row.try_get::<_, bool>(3 + i).map_err(map_err)? {
                *sums.over_microloan_cap.entry(*currency).or_default() += subjects;
            }
        }
    }
    Ok(())
}

impl PostgresStore {
    pub(super) fn supervision_tally_in_database(
        &self,
        month: YearMonth,
        policy: &Policy,
        progress: &ScanProgress<'_>,
    ) -> StoreResult<Tally> {
        let dates = Dates::of(month);
        self.read(|conn| {
            in_transaction(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", |conn| {
                let mut tally = Tally::default();
                progress(0, 3);
                add_accounts(conn, &dates, &mut tally)?;
                progress(1, 3);
                add_co_lending(conn, &dates, policy.min_own_share_bp, &mut tally)?;
                progress(2, 3);
                add_borrowers(conn, &dates, policy, &mut tally)?;
                progress(3, 3);
                Ok(tally)
            })
        })
    }

    pub(super) fn supervision_borrowers_in_database(
        &self,
        month: YearMonth,
        policy: &Policy,
        list: BorrowerList,
    ) -> StoreResult<Vec<(SubjectKey, BorrowerView)>> {
        let dates = Dates::of(month);
        let condition = match list {
            BorrowerList::Stacking => "WHERE recent >= 2".to_owned(),
            BorrowerList::OverMicroloanCap if policy.microloan_cap_minor.is_empty() => "WHERE false".to_owned(),
            BorrowerList::OverMicroloanCap => {
                let overs: Vec<String> = (0..policy.microloan_cap_minor.len()).map(|i| format!("over_{i}")).collect();
                format!("WHERE {}", overs.join(" OR "))
            }
        };
        let micros = (0..policy.microloan_cap_minor.len()).map(|i| format!(", micro_{i}::text")).collect::<Vec<_>>().concat();
        let sql = borrowers_sql(
            policy,
            &format!("{condition} ORDER BY subject_key"),
            &format!("SELECT subject_key, lenders, delinquent, recent_openers{micros}"),
        );
        let caps = caps_of(policy);
        let currencies: Vec<Currency> = policy.microloan_cap_minor.keys().copied().collect();
        self.read(|conn| {
            let mut listed = Vec::new();
            for row in conn.query(&sql, &borrower_params(&dates, &caps)).map_err(map_err)? {
                let recent: Option<String> = row.try_get(3).map_err(map_err)?;
                let mut borrower = BorrowerView {
                    lenders_open: row.try_get::<_, i64>(1).map_err(map_err)? as usize,
                    delinquent: row.try_get(2).map_err(map_err)?,
                    recent_openers: recent.iter().flat_map(|text| text.split(';')).map(str::to_owned).collect::<BTreeSet<_>>(),
                    microloan_balance: std::collections::BTreeMap::new(),
                };
                for (i, currency) in currencies.iter().enumerate() {
                    let owed = amount(row.try_get(4 + i).map_err(map_err)?)?;
                    if owed > 0 {
                        borrower.microloan_balance.insert(*currency, owed);
                    }
                }
                if list.includes(&borrower, policy) {
                    listed.push((SubjectKey(row.try_get(0).map_err(map_err)?), borrower));
                }
            }
            Ok(listed)
        })
    }
}

//! Conformance against the real Metro 2 files of `../shared/data/metro2` (moov-io/metro2 and
//! the CFPB's evaluator): counts, the problems found, the fragments, and read → write → read.

use std::path::PathBuf;

use metro2::layout::SegmentKind;
use metro2::read::parse_record;
use metro2::validate::SegmentCounts;
use metro2::validate::{Sink, check_segment};
use metro2::{Encoding, Framing, Mode, Problem, Reader, Record, SegmentBuf, Summary, Validator, Verdict, Writer};

fn data(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/metro2").join(path)
}

fn read(path: &str) -> Vec<u8> {
    std::fs::read(data(path)).unwrap_or_else(|e| panic!("{path}: {e} (is ../shared beside the repository?)"))
}

fn validate(path: &str, mode: Mode) -> (Summary, Vec<Problem>) {
    validate_bytes(&read(path), mode)
}

fn validate_bytes(bytes: &[u8], mode: Mode) -> (Summary, Vec<Problem>) {
    let mut problems = Vec::new();
    let summary = metro2::validate(bytes, mode, |p| problems.push(p.clone())).unwrap();
    assert_eq!(summary.problems, problems.len() as u64);
    (summary, problems)
}

/// `(record, field, rule)` of each problem, for comparing.
fn located(problems: &[Problem]) -> Vec<(u64, &str, &str)> {
    problems.iter().map(|p| (p.record, p.field.unwrap_or("-"), p.rule.code())).collect()
}

/// A fragment without its line breaks.
fn unwrapped(path: &str) -> Vec<u8> {
    read(path).into_iter().filter(|b| *b != b'\n' && *b != b'\r').collect()
}

fn check_fragment(kind: SegmentKind, encoding: Encoding, bytes: &[u8]) -> Vec<Problem> {
    let mut problems = Vec::new();
    let segment = metro2::Segment { kind, encoding, bytes };
    check_segment(&segment, &mut Sink::new(1, 0, &mut problems));
    problems
}

/// What moov-io's sample account gets wrong: opened in 2019 with information dated 2002, closed
/// before opened, and a balance on a paid collection (status 62). Every format check passes.
const MOOV_SAMPLE_INCONSISTENCIES: [(u64, &str, &str); 3] =
    [(2, "date_opened", "date_order"), (2, "current_balance", "balance_on_paid_account"), (2, "date_closed", "date_order")];

fn moov_segments() -> SegmentCounts {
    SegmentCounts { j1: 1, j2: 1, k3: 1, l1: 1, n1: 1, ..SegmentCounts::default() }
}

#[test]
fn moov_fixed_files_read_with_their_counts() {
    for path in ["moov-io/unpacked_fixed_file.dat", "moov-io/unpacked_fixed_request.dat"] {
        let (summary, problems) = validate(path, Mode::Strict);
        assert_eq!(summary.framing, Some(Framing { encoding: Encoding::Character, blocked: false }), "{path}");
        assert_eq!((summary.records, summary.header, summary.trailer, summary.data_records), (3, true, true, 1), "{path}");
        assert_eq!(summary.segments, moov_segments(), "{path}");
        // The trailer reconciles: no problem of the file.
        assert_eq!(summary.file_problems, 0, "{path}: {problems:?}");
        assert_eq!(located(&problems), MOOV_SAMPLE_INCONSISTENCIES, "{path}");
    }
    // Offsets are the file's: the padded header (RDW 0470) moves the data record to byte 470.
    let (_, problems) = validate("moov-io/unpacked_fixed_file.dat", Mode::Strict);
    assert_eq!(problems[0].offset, 470 + 75);
    assert_eq!(problems[0].value.as_deref(), Some("11222019"));
    assert_eq!(problems[0].segment, Some(SegmentKind::Base));
    assert_eq!(problems[0].field_number, Some(10));
}

/// moov-io's variable-blocked sample: its header's block descriptor word (0496) counts 66 bytes
/// of padding that are no record, the data record's (0426) is shorter than the record (1000),
/// and the trailer has none. Strict reading rejects it at the first inconsistency; lenient
/// reading, line by line, reads its one record.
#[test]
fn moov_variable_file_is_rejected_strictly_and_read_leniently() {
    let (summary, problems) = validate("moov-io/unpacked_variable_file.dat", Mode::Strict);
    assert_eq!(located(&problems), [(2, "-", "block_mismatch")]);
    assert_eq!(problems[0].offset, 0, "the block at the start of the file");
    assert_eq!(summary.framing, Some(Framing { encoding: Encoding::Character, blocked: true }));
    assert_eq!(summary.file_problems, 1);

    let (summary, problems) = validate("moov-io/unpacked_variable_file.dat", Mode::Lenient);
    assert_eq!((summary.header, summary.trailer, summary.data_records), (true, true, 1));
    assert_eq!(summary.segments, moov_segments());
    assert_eq!(located(&problems), MOOV_SAMPLE_INCONSISTENCIES);
}

#[test]
fn fragments_are_valid_segments() {
    for (path, kind) in [
        ("moov-io/j1_segment.dat", SegmentKind::J1),
        ("moov-io/j2_segment.dat", SegmentKind::J2),
        ("moov-io/k1_segment.dat", SegmentKind::K1),
        ("moov-io/k2_segment.dat", SegmentKind::K2),
        ("moov-io/k3_segment.dat", SegmentKind::K3),
        ("moov-io/k4_segment.dat", SegmentKind::K4),
        ("moov-io/l1_segment.dat", SegmentKind::L1),
        ("moov-io/n1_segment.dat", SegmentKind::N1),
        ("moov-io/trailer_record.dat", SegmentKind::Trailer),
        ("cfpb/j1_segment.txt", SegmentKind::J1),
        ("cfpb/j2_segment.txt", SegmentKind::J2),
        ("cfpb/k1_segment.txt", SegmentKind::K1),
        ("cfpb/k2_segment.txt", SegmentKind::K2),
        ("cfpb/k3_segment.txt", SegmentKind::K3),
        ("cfpb/k4_segment.txt", SegmentKind::K4),
        ("cfpb/l1_segment.txt", SegmentKind::L1),
        ("cfpb/n1_segment.txt", SegmentKind::N1),
    ] {
        let bytes = unwrapped(path);
        if kind != SegmentKind::Trailer {
            assert_eq!(bytes.len(), kind.appended_len(), "{path}");
        }
        assert_eq!(check_fragment(kind, Encoding::Character, &bytes), [], "{path}");
    }
    // The header fragments: moov-io's behind a block descriptor word; the CFPB's cut at 280
    // bytes, with letters in its telephone number.
    assert_eq!(check_fragment(SegmentKind::Header, Encoding::Character, &unwrapped("moov-io/header_record.dat")[4..]), []);
    assert_eq!(check_fragment(SegmentKind::Header, Encoding::Packed, &read("moov-io/packed_header_record.dat")[4..]), []);
    assert_eq!(check_fragment(SegmentKind::Trailer, Encoding::Packed, &read("moov-io/packed_trailer_record.dat")), []);
    let problems = check_fragment(SegmentKind::Header, Encoding::Character, &unwrapped("cfpb/header_segment_1.txt"));
    assert_eq!(located(&problems), [(1, "reporter_telephone_number", "not_numeric")]);
}

/// A data record fragment: its segments, in order, and its problems.
fn fragment_record(bytes: &[u8], encoding: Encoding) -> (Vec<SegmentKind>, Vec<Problem>) {
    let mut segments = Vec::new();
    let mut problems = Vec::new();
    let Record::Data(record) = parse_record(bytes, encoding, &mut segments, 1, 0) else { panic!("not a data record") };
    metro2::validate::check_data(&record, &mut Sink::new(2, 0, &mut problems));
    (record.segment_ranges().iter().map(|(kind, _)| *kind).collect(), problems)
}

#[test]
fn data_record_fragments_read_with_all_their_segments() {
    use SegmentKind::*;
    // Character, hard-wrapped, behind a block descriptor word (1268) with RDW 1264.
    let bytes = unwrapped("moov-io/base_segment.dat");
    assert_eq!(&bytes[..8], b"12681264");
    let (segments, problems) = fragment_record(&bytes[4..], Encoding::Character);
    assert_eq!(segments, [J1, J2, J2, K1, K2, K3, K4, L1, N1]);
    assert_eq!(located(&problems), MOOV_SAMPLE_INCONSISTENCIES);

    // Packed: binary descriptor words (1110, 1106), packed dates and amounts.
    let bytes = read("moov-io/packed_base_segment.dat");
    let (segments, problems) = fragment_record(&bytes[4..], Encoding::Packed);
    assert_eq!(segments, [J1, J2, J2, K3, L1, N1]);
    assert_eq!(located(&problems), MOOV_SAMPLE_INCONSISTENCIES);
    assert_eq!(problems[0].value.as_deref(), Some("11222019"), "packed values are shown in character form");

    // The CFPB's base segment: a rating with status 11, and a last payment after the
    // information date.
    let (segments, problems) = fragment_record(&read("cfpb/base_segment_1.txt"), Encoding::Character);
    assert_eq!(segments, []);
    assert_eq!(located(&problems), [(2, "payment_rating", "payment_rating_not_allowed"), (2, "date_of_last_payment", "date_order")]);
}

/// Inputs that crashed the reference parser, and its fuzz corpus: each gives problems, never a
/// panic, read either way.
#[test]
fn crashers_and_fuzz_corpus_give_problems_not_panics() {
    for dir in ["moov-io/crashers", "moov-io/fuzz-corpus"] {
        for entry in std::fs::read_dir(data(dir)).unwrap() {
            let path = entry.unwrap().path();
            let bytes = std::fs::read(&path).unwrap();
            for mode in [Mode::Strict, Mode::Lenient] {
                let (summary, _) = validate_bytes(&bytes, mode);
                assert!(summary.problems > 0, "{} {mode:?}", path.display());
            }
        }
    }
}

/// The CFPB's files use placeholder record descriptor words or lack a trailer: strict reading
/// rejects them at file level.
#[test]
fn cfpb_files_are_rejected_strictly() {
    for path in
        ["cfpb/m2_file_small.txt", "cfpb/m2_file_small_with_error.txt", "cfpb/m2_file_bad_header.txt", "cfpb/m2_extra_extra_segments.txt"]
    {
        let (summary, problems) = validate(path, Mode::Strict);
        assert_eq!(located(&problems), [(1, "-", "invalid_descriptor")], "{path}");
        assert!(problems[0].message.contains("record descriptor word 6 "), "{path}: {}", problems[0].message);
        assert_eq!(summary.file_problems, 1);
    }
    let (_, problems) = validate("cfpb/m2_file_small_no_header.txt", Mode::Strict);
    assert_eq!(located(&problems), [(1, "-", "missing_header")]);
    for month in ["jan", "feb", "mar"] {
        let (summary, problems) = validate(&format!("cfpb/previous_records/{month}-2018.txt"), Mode::Strict);
        assert_eq!(summary.data_records, 2);
        assert_eq!(problems.last().map(|p| p.rule.code()), Some("missing_trailer"), "{month}");
    }
}

#[test]
fn cfpb_files_read_leniently_with_their_counts() {
    let (summary, problems) = validate("cfpb/m2_file_small.txt", Mode::Lenient);
    assert_eq!((summary.header, summary.trailer, summary.data_records), (true, true, 3));
    assert_eq!(summary.segments, SegmentCounts { j1: 2, j2: 1, k1: 1, k2: 1, l1: 1, ..SegmentCounts::default() });
    assert_eq!(summary.file_problems, 0, "lenient reading ignores the trailer and all but the header's date: {problems:?}");

    let (summary, _) = validate("cfpb/m2_file_small_no_header.txt", Mode::Lenient);
    assert_eq!((summary.header, summary.trailer, summary.data_records), (false, false, 3));

    let (summary, _) = validate("cfpb/m2_extra_extra_segments.txt", Mode::Lenient);
    assert_eq!(summary.data_records, 3);
    let three = 3;
    assert_eq!(summary.segments, SegmentCounts { j1: 12, j2: 12, k1: three, k2: three, k3: three, k4: three, l1: three, n1: three });

    for month in ["jan", "feb", "mar"] {
        let (summary, _) = validate(&format!("cfpb/previous_records/{month}-2018.txt"), Mode::Lenient);
        assert_eq!((summary.data_records, summary.segments.j1, summary.file_problems), (2, 1, 0), "{month}");
    }

    // The bad header's identifier (HEADERWRONG) shifts its activity date: the file's problem.
    let (summary, problems) = validate("cfpb/m2_file_bad_header.txt", Mode::Lenient);
    assert_eq!(summary.file_problems, 1);
    assert_eq!(located(&problems[..1]), [(1, "activity_date", "not_a_date")]);
}

/// The third record's truncated identification number shifts its fields: the first two records
/// read, the third is reported and skipped.
#[test]
fn cfpb_record_with_error_is_reported_and_the_others_read() {
    let bytes = read("cfpb/m2_file_small_with_error.txt");
    let mut reader = Reader::new(&bytes[..], Mode::Lenient);
    let mut validator = Validator::new(Mode::Lenient);
    let mut verdicts = Vec::new();
    let mut problems = Vec::new();
    while let Some(located) = reader.next_record().unwrap() {
        verdicts.push(validator.check(&located, &mut problems));
    }
    assert_eq!(
        verdicts,
        [Verdict::File, Verdict::Data { valid: false }, Verdict::Data { valid: false }, Verdict::Unreadable, Verdict::File]
    );
    let unreadable: Vec<_> = problems.iter().filter(|p| p.record == 4).collect();
    assert_eq!(unreadable.len(), 1);
    assert_eq!(unreadable[0].rule.code(), "unknown_segment");
}

/// Every field of every segment of every record, as read: what "lossless" compares.
fn field_values(bytes: &[u8], mode: Mode) -> Vec<Vec<(SegmentKind, Vec<String>)>> {
    let mut reader = Reader::new(bytes, mode);
    let mut records = Vec::new();
    while let Some(located) = reader.next_record().unwrap() {
        let segments: Vec<_> = match &located.record {
            Record::Header(segment) | Record::Trailer(segment) => vec![*segment],
            Record::Data(record) => std::iter::once(record.base()).chain(record.appended()).collect(),
            Record::Unreadable(problem) => panic!("{problem}"),
        };
        records.push(segments.iter().map(|s| (s.kind, (1..s.fields().len()).map(|i| format!("{:?}", s.value_at(i))).collect())).collect());
    }
    records
}

/// Rebuilds a segment field by field from the values read (not by copying its bytes); a value
/// that does not read (the CFPB's blank numbers) is kept as found.
fn rebuilt(segment: &metro2::Segment<'_>) -> SegmentBuf {
    let mut built = SegmentBuf::new(segment.kind, segment.encoding);
    for index in 1..segment.fields().len() {
        match segment.value_at(index) {
            Ok(value) => built.set(index, value).unwrap(),
            Err(_) => built.set_raw(index, segment.raw_at(index)).unwrap(),
        };
    }
    built
}

/// Reads a file, rebuilds every record from its values, writes it, and returns what was written.
fn rewrite(bytes: &[u8], mode: Mode, framing: Framing) -> Vec<u8> {
    let mut reader = Reader::new(bytes, mode);
    let mut writer = None;
    while let Some(located) = reader.next_record().unwrap() {
        match &located.record {
            Record::Header(header) => writer = Some(Writer::new(Vec::new(), framing, true, &rebuilt(header)).unwrap()),
            Record::Data(record) => {
                let appended: Vec<_> = record.appended().map(|s| rebuilt(&s)).collect();
                writer.as_mut().unwrap().record(&rebuilt(&record.base()), &appended).unwrap();
            }
            Record::Trailer(_) => {}
            Record::Unreadable(problem) => panic!("{problem}"),
        }
    }
    writer.unwrap().finish().unwrap()
}

#[test]
fn read_write_read_is_lossless() {
    let character = Framing { encoding: Encoding::Character, blocked: false };
    for path in ["moov-io/unpacked_fixed_file.dat", "moov-io/unpacked_fixed_request.dat"] {
        let original = read(path);
        let written = rewrite(&original, Mode::Strict, character);
        assert_eq!(field_values(&written, Mode::Strict), field_values(&original, Mode::Strict), "{path}");
        // Written blocked, it reads the same too.
        let blocked = rewrite(&original, Mode::Strict, Framing { blocked: true, ..character });
        assert_eq!(field_values(&blocked, Mode::Strict), field_values(&original, Mode::Strict), "{path} blocked");
        let (summary, problems) = validate_bytes(&blocked, Mode::Strict);
        assert_eq!(summary.file_problems, 0, "{problems:?}");
    }

    // Packed: a file assembled from moov-io's packed fragments, written and read back.
    let header = read("moov-io/packed_header_record.dat");
    let base = read("moov-io/packed_base_segment.dat");
    let mut packed = Vec::new();
    packed.extend_from_slice(&header[4..]);
    packed.extend_from_slice(&base[4..]);
    let mut header_buf = SegmentBuf::new(SegmentKind::Header, Encoding::Packed);
    header_buf.set_text(1, "HEADER").unwrap();
    let header_segment = metro2::Segment { kind: SegmentKind::Header, encoding: Encoding::Packed, bytes: &header[4..] };
    let mut segments = Vec::new();
    let Record::Data(record) = parse_record(&base[4..], Encoding::Packed, &mut segments, 2, 0) else { panic!() };
    let packed_framing = Framing { encoding: Encoding::Packed, blocked: false };
    let mut writer = Writer::new(Vec::new(), packed_framing, true, &rebuilt(&header_segment)).unwrap();
    let appended: Vec<_> = record.appended().map(|s| rebuilt(&s)).collect();
    writer.record(&rebuilt(&record.base()), &appended).unwrap();
    let written = writer.finish().unwrap();
    let (summary, problems) = validate_bytes(&written, Mode::Strict);
    assert_eq!(summary.framing, Some(packed_framing));
    assert_eq!((summary.data_records, summary.file_problems), (1, 0), "{problems:?}");
    let values = field_values(&written, Mode::Strict);
    let original_base: Vec<_> = std::iter::once(record.base())
        .chain(record.appended())
        .map(|s| (s.kind, (1..s.fields().len()).map(|i| format!("{:?}", s.value_at(i))).collect::<Vec<_>>()))
        .collect();
    assert_eq!(values[1], original_base);
    // And once more, from what was written: byte for byte the same.
    assert_eq!(rewrite(&written, Mode::Strict, packed_framing), written);

    // The CFPB's records, read leniently, written strictly (with a trailer that reconciles).
    let original = read("cfpb/m2_extra_extra_segments.txt");
    let mut reader = Reader::new(&original[..], Mode::Lenient);
    let mut header = SegmentBuf::new(SegmentKind::Header, Encoding::Character);
    header.set_text(11, "REPORTER").unwrap();
    let mut writer = Writer::new(Vec::new(), character, true, &header).unwrap();
    let mut data = Vec::new();
    while let Some(located) = reader.next_record().unwrap() {
        if let Record::Data(record) = &located.record {
            let appended: Vec<_> = record.appended().map(|s| rebuilt(&s)).collect();
            writer.record(&rebuilt(&record.base()), &appended).unwrap();
            data.push(located.number);
        }
    }
    let written = writer.finish().unwrap();
    let (summary, _) = validate_bytes(&written, Mode::Strict);
    assert_eq!((summary.data_records, summary.segments.j1, summary.segments.n1), (3, 12, 3));
    let read_back = field_values(&written, Mode::Strict);
    let lenient = field_values(&original, Mode::Lenient);
    assert_eq!(read_back[1..4], lenient[1..4]);
}

/// Validating on several threads gives the same summary and problems, in the same order.
#[test]
fn parallel_validation_matches_sequential_on_every_file() {
    let mut paths = Vec::new();
    for dir in ["moov-io", "cfpb", "cfpb/previous_records", "moov-io/crashers", "moov-io/fuzz-corpus"] {
        for entry in std::fs::read_dir(data(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.is_file() {
                paths.push(path);
            }
        }
    }
    for path in paths {
        let bytes = std::fs::read(&path).unwrap();
        for mode in [Mode::Strict, Mode::Lenient] {
            let sequential = validate_bytes(&bytes, mode);
            let mut problems = Vec::new();
            let summary = metro2::validate_parallel(&bytes[..], mode, 2, |p| problems.push(p.clone())).unwrap();
            assert_eq!((summary, problems), sequential, "{} {mode:?}", path.display());
        }
    }
}

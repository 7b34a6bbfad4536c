//! Where a field sits in a furnishing record, as the format names it: `balance`,
//! `subjects[1].id`, `subjects[0].address.city`, `funding[0].share_bp`. Messages say it this way
//! whatever the file's format; errors name the field where the file wrote it (the same path for
//! a JSON line, the Metro 2 segment and field for a Metro 2 record).

use std::fmt;

/// The object a field sits in: the record itself, `subjects[1]`, `subjects[1].address` or
/// `funding[0]`. Copy, and formatted only when an error needs it.
#[derive(Clone, Copy, Default)]
pub(crate) struct Prefix {
    pub list: &'static str,
    pub index: usize,
    pub child: &'static str,
}

impl Prefix {
    pub(crate) fn item(list: &'static str, index: usize) -> Prefix {
        Prefix { list, index, child: "" }
    }

    pub(crate) fn child(self, child: &'static str) -> Prefix {
        Prefix { child, ..self }
    }

    pub(crate) fn is_root(&self) -> bool {
        self.list.is_empty()
    }

    /// Inside a subject: values (and stray keys) there are personal data.
    pub(crate) fn is_personal(&self) -> bool {
        self.list == "subjects"
    }
}

impl fmt::Display for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_root() {
            return Ok(());
        }
        write!(f, "{}[{}]", self.list, self.index)?;
        if !self.child.is_empty() {
            write!(f, ".{}", self.child)?;
        }
        Ok(())
    }
}

/// Where a field sits in the record, for error paths like `subjects[1].id`.
#[derive(Clone, Copy)]
pub(crate) struct Path<'p> {
    pub prefix: Prefix,
    pub name: &'p str,
}

impl<'p> Path<'p> {
    pub(crate) fn root() -> Path<'static> {
        Path { prefix: Prefix::default(), name: "" }
    }

    pub(crate) fn field(name: &'p str) -> Path<'p> {
        Path { prefix: Prefix::default(), name }
    }

    pub(crate) fn nested(prefix: Prefix, name: &'p str) -> Path<'p> {
        Path { prefix, name }
    }

    /// Personal-data fields never have their values echoed in messages.
    pub(crate) fn is_personal(&self) -> bool {
        self.prefix.is_personal()
    }
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.prefix.is_root(), self.name.is_empty()) {
            (true, _) => f.write_str(self.name),
            (false, true) => write!(f, "{}", self.prefix),
            (false, false) => write!(f, "{}.{}", self.prefix, self.name),
        }
    }
}

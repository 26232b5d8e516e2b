//! A small, hostile-input-safe XML tree for the config formats we read (autoconfig,
//! autodiscover).
//!
//! * No DTD processing and no entity expansion beyond the five predefined entities and
//!   character references: a document type declaration is ignored, an unknown entity is an
//!   error. So entity bombs cannot happen.
//! * Nesting is limited to 32 levels and the input to 1 MiB.
//! * Names are matched by *local name*, case-insensitively: real servers vary namespace
//!   prefixes (some even use undeclared ones) and the case of element names.
//! * Anything after the root element closes is ignored (some ISPDB files have stray text there).

use quick_xml::XmlVersion;
use quick_xml::events::{BytesStart, Event};

/// Deepest element nesting accepted.
const MAX_DEPTH: usize = 32;
/// Largest document accepted, in bytes.
const MAX_INPUT: usize = 1024 * 1024;

/// An element: its local name, attributes (local names), children, and its own text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Element {
    /// The local name as written (namespace prefix removed).
    pub name: String,
    /// Attributes by local name, in document order.
    pub attributes: Vec<(String, String)>,
    /// Child elements in document order.
    pub children: Vec<Element>,
    /// The element's own text (concatenated, not including children's text).
    pub text: String,
}

impl Element {
    /// Whether the local name is `name`, ignoring ASCII case.
    pub fn is(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name)
    }

    /// The first child named `name` (case-insensitive).
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.is(name))
    }

    /// Every child named `name` (case-insensitive).
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.is(name))
    }

    /// The trimmed text of the first child named `name`, if present and not empty.
    pub fn child_text(&self, name: &str) -> Option<&str> {
        self.child(name).map(|c| c.text.trim()).filter(|t| !t.is_empty())
    }

    /// The value of the attribute `name` (case-insensitive local name).
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// Why a document could not be read as XML.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum XmlError {
    /// Not well-formed XML.
    #[error("malformed XML at byte {offset}: {message}")]
    Malformed {
        /// Byte offset of the problem.
        offset: u64,
        /// The parser's message.
        message: String,
    },
    /// No root element at all.
    #[error("no XML element found")]
    Empty,
    /// Nested deeper than 32 levels.
    #[error("elements are nested deeper than {MAX_DEPTH} levels")]
    TooDeep,
    /// Larger than 1 MiB.
    #[error("the document is larger than {MAX_INPUT} bytes")]
    TooLarge,
    /// An entity other than the five predefined ones (no DTD entities are expanded).
    #[error("unsupported entity reference &{0};")]
    UnknownEntity(String),
}

/// Parses a document into its root element.
///
/// # Errors
/// [`XmlError`] for malformed, empty, too deep or too large input, or unknown entities.
pub fn parse(text: &str) -> Result<Element, XmlError> {
    if text.len() > MAX_INPUT {
        return Err(XmlError::TooLarge);
    }
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = quick_xml::Reader::from_str(text);
    reader.config_mut().trim_text(false);
    let mut stack: Vec<Element> = Vec::new();
    loop {
        let offset = reader.buffer_position();
        let event = reader.read_event().map_err(|e| XmlError::Malformed {
            offset: reader.error_position().max(offset),
            message: e.to_string(),
        })?;
        match event {
            Event::Start(start) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(XmlError::TooDeep);
                }
                stack.push(element(&start, offset)?);
            }
            Event::Empty(start) => {
                let empty = element(&start, offset)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(empty),
                    None => return Ok(empty),
                }
            }
            Event::End(_) => {
                let Some(done) = stack.pop() else {
                    return Err(XmlError::Malformed {
                        offset,
                        message: "unexpected end tag".into(),
                    });
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(done),
                    None => return Ok(done),
                }
            }
            Event::Text(t) => {
                if let Some(current) = stack.last_mut() {
                    current.text.push_str(&t.xml_content(XmlVersion::Implicit1_0));
                }
            }
            Event::CData(c) => {
                if let Some(current) = stack.last_mut() {
                    current.text.push_str(&c.into_inner());
                }
            }
            Event::GeneralRef(reference) => {
                let resolved = match reference.resolve_char_ref() {
                    Ok(Some(c)) => c,
                    Ok(None) => predefined_entity(&reference)
                        .ok_or_else(|| XmlError::UnknownEntity(reference.to_string()))?,
                    Err(e) => {
                        return Err(XmlError::Malformed { offset, message: e.to_string() });
                    }
                };
                if let Some(current) = stack.last_mut() {
                    current.text.push(resolved);
                }
            }
            Event::Eof => {
                return Err(if stack.is_empty() {
                    XmlError::Empty
                } else {
                    XmlError::Malformed {
                        offset,
                        message: "the document ends inside an element".into(),
                    }
                });
            }
            // Declarations, comments, processing instructions and DOCTYPE carry nothing we use;
            // a DOCTYPE's internal subset is never interpreted.
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
}

fn predefined_entity(name: &str) -> Option<char> {
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        _ => return None,
    })
}

fn element(start: &BytesStart<'_>, offset: u64) -> Result<Element, XmlError> {
    let mut attributes = Vec::new();
    for attribute in start.attributes() {
        let attribute =
            attribute.map_err(|e| XmlError::Malformed { offset, message: e.to_string() })?;
        let value = attribute
            .normalized_value(XmlVersion::Implicit1_0)
            .map_err(|e| XmlError::Malformed { offset, message: e.to_string() })?;
        attributes.push((attribute.key.local_name().as_ref().to_owned(), value.into_owned()));
    }
    Ok(Element {
        name: start.local_name().as_ref().to_owned(),
        attributes,
        children: Vec::new(),
        text: String::new(),
    })
}

/// Escapes text for use inside an XML element or attribute (`<`, `>`, `&`, `'`, `"`).
pub fn escape(text: &str) -> std::borrow::Cow<'_, str> {
    quick_xml::escape::escape(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_a_tree_by_local_names() {
        let root = parse(
            "<?xml version=\"1.0\"?>\r\n<a:Root xmlns:a=\"urn:x\"><a:Item Kind=\"k &amp; v\">one &amp; &#x32;</a:Item><b:item/></a:Root> stray text",
        )
        .unwrap();
        assert!(root.is("root"));
        assert_eq!(root.children.len(), 2);
        let item = root.child("ITEM").unwrap();
        assert_eq!(item.text, "one & 2");
        assert_eq!(item.attribute("kind"), Some("k & v"));
        assert_eq!(root.children_named("item").count(), 2);
    }

    #[test]
    fn tolerates_undeclared_prefixes_comments_and_doctype() {
        let root =
            parse("<!DOCTYPE x><!-- c --><i:Envelope><i:Body>b</i:Body></i:Envelope>").unwrap();
        assert_eq!(root.child_text("body"), Some("b"));
    }

    #[test]
    fn refuses_entity_expansion_and_deep_nesting() {
        let bomb = "<!DOCTYPE r [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;\">]><r>&b;</r>";
        assert_eq!(parse(bomb), Err(XmlError::UnknownEntity("b".into())));
        let deep = format!("{}{}", "<a>".repeat(MAX_DEPTH + 1), "</a>".repeat(MAX_DEPTH + 1));
        assert_eq!(parse(&deep), Err(XmlError::TooDeep));
        let fine = format!("{}{}", "<a>".repeat(MAX_DEPTH), "</a>".repeat(MAX_DEPTH));
        assert!(parse(&fine).is_ok());
    }

    #[test]
    fn reports_malformed_and_empty_input() {
        assert!(matches!(parse("<a><b></a>"), Err(XmlError::Malformed { .. })));
        assert!(matches!(parse("<a>"), Err(XmlError::Malformed { .. })));
        assert_eq!(parse(""), Err(XmlError::Empty));
        assert_eq!(parse("just text"), Err(XmlError::Empty));
        assert_eq!(parse(&"x".repeat(MAX_INPUT + 1)), Err(XmlError::TooLarge));
    }
}

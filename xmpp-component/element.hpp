#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace trestle::xmpp {

/// An XML element with a resolved namespace, attributes in document order and
/// ordered child nodes. A text node is an Element with an empty name.
///
/// Namespace declarations are not attributes: the parser resolves them into
/// xmlns(), and the serializer writes `xmlns='…'` where an element's namespace
/// differs from its parent's. Prefixed attributes keep their qualified name
/// (`xml:lang`).
class Element {
public:
  using Attribute = std::pair<std::string, std::string>;

  /// An empty text node.
  Element() = default;
  /// An element called `name` in namespace `xmlns` (empty: inherit the parent's).
  explicit Element(std::string name, std::string xmlns = {});
  /// A text node holding `text` (unescaped).
  static Element text_node(std::string text);

  /// True for a text node.
  bool is_text() const { return name_.empty(); }
  /// The local name; empty for a text node.
  const std::string& name() const { return name_; }
  /// The namespace URI; empty means "the parent's".
  const std::string& xmlns() const { return xmlns_; }
  /// Sets the namespace URI.
  void set_xmlns(std::string xmlns) { xmlns_ = std::move(xmlns); }

  /// All attributes in document order.
  const std::vector<Attribute>& attributes() const { return attributes_; }
  /// The value of attribute `name`, if present.
  std::optional<std::string_view> attr(std::string_view name) const;
  /// The value of attribute `name`, or `fallback`.
  std::string attr_or(std::string_view name, std::string_view fallback = {}) const;
  /// Sets (or replaces) attribute `name`; returns *this for chaining.
  Element& set_attr(std::string name, std::string value);
  /// Removes attribute `name`; returns whether it was present.
  bool remove_attr(std::string_view name);

  /// Child nodes (elements and text nodes) in document order.
  const std::vector<Element>& nodes() const { return nodes_; }
  /// Appends a child node and returns a reference to it (valid until the next append).
  Element& append(Element child);
  /// Appends a new child element and returns a reference to it.
  Element& append(std::string name, std::string xmlns = {});
  /// Appends text, merging with a trailing text node; returns *this.
  Element& append_text(std::string_view text);
  /// Removes every child node.
  void clear_children() { nodes_.clear(); }
  /// Removes child elements called `name` (in `xmlns` if not empty); returns how many.
  std::size_t remove_children(std::string_view name, std::string_view xmlns = {});
  /// Removes the child elements called `name` (in `xmlns` if not empty) for
  /// which `keep` is false; returns how many.
  std::size_t remove_children_unless(std::string_view name, std::string_view xmlns,
                                     const std::function<bool(const Element&)>& keep);

  /// The concatenated text of the direct text children (a text node: its own text).
  std::string text() const;
  /// The first child element called `name` (in `xmlns` if not empty), or null.
  const Element* find(std::string_view name, std::string_view xmlns = {}) const;
  /// Mutable overload of find().
  Element* find(std::string_view name, std::string_view xmlns = {});
  /// Every child element called `name` (in `xmlns` if not empty).
  std::vector<const Element*> find_all(std::string_view name, std::string_view xmlns = {}) const;
  /// The first child that is an element (an iq's payload), or null.
  const Element* first_element() const;
  /// The text of the first child element called `name`, or empty.
  std::string child_text(std::string_view name, std::string_view xmlns = {}) const;

private:
  std::string name_;
  std::string xmlns_;
  std::string text_;
  std::vector<Attribute> attributes_;
  std::vector<Element> nodes_;
};

/// Escapes `& < > ' "` for use in XML text or a single- or double-quoted attribute.
std::string escape_xml(std::string_view raw);
/// Serializes `element` and its subtree; `parent_xmlns` is the namespace in
/// scope, so `xmlns` is written only where it changes.
std::string serialize(const Element& element, std::string_view parent_xmlns = {});
/// Appends the serialization of `element` to `out` (see serialize()).
void serialize_to(std::string& out, const Element& element, std::string_view parent_xmlns = {});

} // namespace trestle::xmpp

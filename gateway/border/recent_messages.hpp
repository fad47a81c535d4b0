#pragma once

#include "element.hpp"

#include <cstddef>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace trestle::gateway {

/// The last messages of each user's chats on one component, by message id,
/// so that a reaction or a reply can quote what it refers to. Bounded: the
/// oldest entry goes when `capacity` are held, and each keeps a short excerpt
/// only. Single-threaded (the io_context's thread).
class RecentMessages {
public:
  /// Bytes of an excerpt at most (one line, cut with "…").
  static constexpr std::size_t excerpt_bytes = 80;

  explicit RecentMessages(std::size_t capacity = 4096);

  /// Remembers the body of `message`, a chat or groupchat message with a body
  /// that `user` (a bare JID) sent or received, under each id it carries:
  /// its 'id', its XEP-0359 origin-id and the stanza-ids a room gave it.
  void remember(std::string_view user, const xmpp::Element& message);
  /// Remembers `text` as message `id` of `user`.
  void remember(std::string_view user, std::string_view id, std::string_view text);

  /// The excerpt of message `id` of `user`, or null when unknown.
  const std::string* excerpt(std::string_view user, std::string_view id) const;

  /// The reactions of `user` to message `id` that went out before; replaced
  /// by `now` (XEP-0444 sends the whole set each time).
  std::vector<std::string> swap_reactions(std::string_view user, std::string_view id,
                                          std::vector<std::string> now);

  std::size_t size() const { return entries_.size(); }

private:
  struct Entry {
    std::string excerpt;
    std::vector<std::string> reactions;
  };
  Entry& entry(std::string_view user, std::string_view id);

  std::size_t capacity_;
  std::unordered_map<std::string, Entry> entries_;
  /// Keys, oldest first.
  std::deque<std::string> order_;
};

} // namespace trestle::gateway

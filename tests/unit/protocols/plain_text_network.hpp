#pragma once

#include "network_abilities.hpp"

#include <boost/test/unit_test.hpp>
#include <string_view>

namespace trestle::protocols_test {

/// Checks an adapter's capability table for a network that carries plain
/// text only (IRC, email, SMS): corrections, reactions, replies, attachments
/// and formatting are written as text, corrections after `marker`, and a
/// retraction is refused. `actions`: "/me" lines are the network's actions.
inline void check_plain_text_network(const gateway::NetworkAbilities& abilities,
                                     std::string_view network, std::string_view marker,
                                     bool actions) {
  using gateway::Carry;
  BOOST_TEST(abilities.network == network);
  BOOST_TEST((abilities.corrections == Carry::as_text));
  BOOST_TEST(abilities.correction_marker == marker);
  BOOST_TEST((abilities.reactions == Carry::as_text));
  BOOST_TEST((abilities.replies == Carry::as_text));
  BOOST_TEST((abilities.retractions == Carry::refused));
  BOOST_TEST((abilities.formatting == Carry::as_text));
  BOOST_TEST((abilities.attachments == Carry::as_text));
  BOOST_TEST(abilities.actions == actions);
}

} // namespace trestle::protocols_test

#include "html_text.hpp"
#include "utf8.hpp"

#include <boost/test/unit_test.hpp>
#include <string>

using trestle::smtp::html_to_text;

BOOST_AUTO_TEST_SUITE(html_text)

BOOST_AUTO_TEST_CASE(head_scripts_and_styles_are_dropped) {
  BOOST_TEST(html_to_text("<html><head><title>Title</title><style>p { color: red }</style>"
                          "<script>var x = 1;</script></head><body>Text<script>alert(1)"
                          "</script><noscript> shown</noscript></body></html>") == "Text shown");
}

BOOST_AUTO_TEST_CASE(blocks_and_breaks_become_lines) {
  BOOST_TEST(html_to_text("<p>One</p><p>Two<br>Three</p><div>Four</div><div>Five</div>six") ==
             "One\n\nTwo\nThree\n\nFour\nFive\nsix");
  BOOST_TEST(html_to_text("<h1>Title</h1>text<hr>after") == "Title\n\ntext\n\nafter");
  BOOST_TEST(html_to_text("a<br><br>b") == "a\n\nb");
}

BOOST_AUTO_TEST_CASE(white_space_is_folded_as_a_browser_does) {
  BOOST_TEST(html_to_text("  Hello,\n   <b>big</b>\t<i>world</i>  !  ") == "Hello, big world !");
  BOOST_TEST(html_to_text("<span>a</span><span>b</span>") == "ab");
}

BOOST_AUTO_TEST_CASE(preformatted_text_is_kept) {
  BOOST_TEST(html_to_text("<pre>  a   b\n  c</pre>x   y") == "  a   b\n  c\n\nx y");
}

BOOST_AUTO_TEST_CASE(list_items_get_marks) {
  BOOST_TEST(html_to_text("<ul><li>one</li><li>two<ul><li>inner</li></ul></li></ul>"
                          "<ol><li>first</li></ol>after") ==
             "- one\n- two\n  - inner\n- first\nafter");
}

BOOST_AUTO_TEST_CASE(links_show_their_target_when_it_differs) {
  BOOST_TEST(html_to_text("<a href=\"https://example.com/a?b=1&amp;c=2\">the page</a>") ==
             "the page (https://example.com/a?b=1&c=2)");
  BOOST_TEST(html_to_text("<a href=\"https://example.com/\">https://example.com/</a>") ==
             "https://example.com/");
  BOOST_TEST(html_to_text("<a href=\"mailto:bob@example.com\">bob@example.com</a>") ==
             "bob@example.com");
  BOOST_TEST(html_to_text("<a href=\"mailto:bob@example.com?subject=Hi\">bob@example.com</a>") ==
             "bob@example.com");
  BOOST_TEST(html_to_text("<a href=\"#top\">top</a> <a href=\"javascript:go()\">go</a>") ==
             "top go");
  BOOST_TEST(html_to_text("<a href=\"https://example.com/\"><img src=\"logo.png\"></a>") ==
             "https://example.com/");
  BOOST_TEST(
      html_to_text("<a href=\"https://example.com/\"><img alt=\"Logo\" src=\"l.png\"></a>") ==
      "Logo (https://example.com/)");
}

BOOST_AUTO_TEST_CASE(entities_are_decoded) {
  BOOST_TEST(html_to_text("&lt;tag&gt; &amp; &quot;q&quot; &eacute; &#x263A; &#9731; &copy;") ==
             "<tag> & \"q\" é \u263A \u2603 ©");
  BOOST_TEST(html_to_text("a&nbsp;&nbsp;b") == "a  b");
  BOOST_TEST(html_to_text("&nosuch; x") == "&nosuch; x");
  BOOST_TEST(trestle::xmpp::is_valid_utf8(html_to_text("&#0; &#xD800; &#x110000; &#xFFFF;")));
}

BOOST_AUTO_TEST_CASE(blank_lines_are_folded) {
  BOOST_TEST(html_to_text("<p>a</p>\n\n\n<p>&nbsp;</p><p> </p><br><br><br><p>b</p><br><br>") ==
             "a\n\nb");
}

BOOST_AUTO_TEST_CASE(quotes_and_tables) {
  BOOST_TEST(html_to_text("<blockquote><p>quoted</p><blockquote>deeper</blockquote></blockquote>"
                          "reply") == "> quoted\n\n> > deeper\n\nreply");
  BOOST_TEST(html_to_text("<table><tr><th>Name</th><th>Size</th></tr>"
                          "<tr><td>a.txt</td><td>1 KiB</td></tr></table>") ==
             "Name Size\na.txt 1 KiB");
}

BOOST_AUTO_TEST_CASE(output_is_valid_utf8_whatever_the_input) {
  BOOST_TEST(html_to_text("<p>bad \xFF\xFE utf8 \xC3</p>" + std::string("\0", 1) + "<p>nul</p>") ==
             "bad \uFFFD\uFFFD utf8 \uFFFD\n\nnul");
  // A declared charset is ignored: the text is UTF-8 already.
  BOOST_TEST(html_to_text("<meta charset=\"iso-8859-1\"><p>Grüße</p>") == "Grüße");
  BOOST_TEST(html_to_text("<head><meta http-equiv=\"Content-Type\" "
                          "content=\"text/html; charset=koi8-r\"></head>Привет") == "Привет");
  BOOST_TEST(html_to_text("a\x01\x1B b") == "a b");
}

BOOST_AUTO_TEST_CASE(empty_and_broken_documents) {
  BOOST_TEST(html_to_text("") == "");
  BOOST_TEST(html_to_text("   ") == "");
  BOOST_TEST(html_to_text("a < b > c") == "a < b > c");
  BOOST_TEST(html_to_text("<p>unclosed <b>bold <i>italic") == "unclosed bold italic");
  BOOST_TEST(html_to_text("</div></p>text</b>") == "text");
  BOOST_TEST(html_to_text("<!-- a comment -->after") == "after");
}

BOOST_AUTO_TEST_CASE(deep_lists_and_quotes_stop_indenting) {
  std::string html;
  for (int i = 0; i < 20; ++i) {
    html += "<ul><li>x";
  }
  const std::string lists = html_to_text(html);
  BOOST_TEST(lists.ends_with("\n                - x"));
  html.clear();
  for (int i = 0; i < 20000; ++i) {
    html += "<blockquote>q";
  }
  const std::string quotes = html_to_text(html);
  BOOST_TEST(quotes.ends_with("\n> > > > > > > > q"));
  BOOST_TEST(quotes.size() < 20000u * 40);
}

BOOST_AUTO_TEST_CASE(deep_nesting_does_not_exhaust_the_stack) {
  std::string html;
  for (int i = 0; i < 100000; ++i) {
    html += "<div><span>";
  }
  html += "deep";
  const std::string text = html_to_text(html);
  BOOST_TEST(trestle::xmpp::is_valid_utf8(text));
}

BOOST_AUTO_TEST_SUITE_END()

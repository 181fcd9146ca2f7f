// The XML layer's one escaper (include/virtpp/xml/escape.hpp), in each style its users write with.
#include <virtpp/xml/escape.hpp>

#include <gtest/gtest.h>

#include <string>

namespace {

using virtpp::xml::escape;
using virtpp::xml::escape_style;

const std::string sample = std::string("a<b>&'\"\t\n\r") + '\x01' + '\x1f' + " z";

TEST(XmlEscape, EachStyle) {
    EXPECT_EQ(escape(sample, escape_style::text), std::string("a&lt;b&gt;&amp;&apos;&quot;\t\n&#13;") + '\x01' + '\x1f' + " z");
    EXPECT_EQ(escape(sample, escape_style::attribute),
              std::string("a&lt;b&gt;&amp;&apos;&quot;&#9;&#10;&#13;") + '\x01' + '\x1f' + " z");
    // 0x01 to 0x19 vanish (tab, LF and CR aside), as in virBufferEscapeString; 0x1f stays
    EXPECT_EQ(escape(sample, escape_style::libvirt_buffer), std::string("a&lt;b&gt;&amp;&apos;&quot;\t\n\r") + '\x1f' + " z");
    EXPECT_EQ(escape(sample, escape_style::entities_only),
              std::string("a&lt;b&gt;&amp;&apos;&quot;\t\n\r") + '\x01' + '\x1f' + " z");
    EXPECT_EQ(escape("", escape_style::text), "");
}

}  // namespace

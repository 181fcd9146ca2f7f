// Replaces Xerces-C's libcurl network accessor in the statically linked tools. Linked ahead of
// libxerces-c.a, these definitions are the ones the archive's PlatformUtils refers to, so the
// archive's CurlNetAccessor (and with it libcurl) is never linked in: virtpp's XML parsers cannot
// fetch anything over the network, whatever a document asks for. Every attempt is an error.
#include <xercesc/util/NetAccessors/Curl/CurlNetAccessor.hpp>
#include <xercesc/util/XMLNetAccessor.hpp>
#include <xercesc/util/XMLUniDefs.hpp>

XERCES_CPP_NAMESPACE_BEGIN

int CurlNetAccessor::fgCurlInitCount = 0;
const XMLCh CurlNetAccessor::fgMyName[] = {chLatin_N, chLatin_o, chLatin_N, chLatin_e, chLatin_t, chNull};

CurlNetAccessor::CurlNetAccessor() = default;
CurlNetAccessor::~CurlNetAccessor() = default;
void CurlNetAccessor::initCurl() {}
void CurlNetAccessor::cleanupCurl() {}

BinInputStream* CurlNetAccessor::makeNew(const XMLURL&, const XMLNetHTTPInfo*) {
    ThrowXML(NetAccessorException, XMLExcepts::NetAcc_InternalError);
}

XERCES_CPP_NAMESPACE_END

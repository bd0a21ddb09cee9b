from defusedxml import minidom


def feed_titles(body: bytes):
    doc = minidom.parseString(body)
    return [node.firstChild.data for node in doc.getElementsByTagName("title")]

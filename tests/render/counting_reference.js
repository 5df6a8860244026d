// Recomputes the expected values of counting_table.json from the reference implementations.
//
// The tests never run this script: it is kept so anyone can regenerate the table.
//   mkdir /tmp/ref-node && cd /tmp/ref-node && npm init -y && npm install twitter-text@3 @atproto/api
//   NODE_PATH=/tmp/ref-node/node_modules node tests/render/counting_reference.js tests/render/counting_table.json
// It keeps each row's "text" and "note", and rewrites "x_weighted_length" (twitter-text's
// parseTweet(text).weightedLength) and "bluesky_facets" (@atproto/api's
// RichText.detectFacetsWithoutResolution(): the spans detectFacets finds before it resolves
// mentions to DIDs, as [byteStart, byteEnd, kind, uri | tag | handle]) and "bluesky_graphemes"
// (RichText's graphemeLength), then records the versions used in "generated_by".
"use strict";
const fs = require("fs");
const twitterText = require("twitter-text");
const { RichText } = require("@atproto/api");

const path = process.argv[2];
const table = JSON.parse(fs.readFileSync(path, "utf8"));
const version = (name) => require(`${name}/package.json`).version;

function facetsOf(text) {
  const rich = new RichText({ text });
  rich.detectFacetsWithoutResolution();
  return (rich.facets || []).map((facet) => {
    const feature = facet.features[0];
    const kind = feature.$type.split("#")[1];
    const value = kind === "link" ? feature.uri : kind === "tag" ? feature.tag : feature.did;
    return [facet.index.byteStart, facet.index.byteEnd, kind, value];
  });
}

table.generated_by = `twitter-text ${version("twitter-text")} (twemoji-parser ${version(
  "twemoji-parser"
)}), @atproto/api ${version("@atproto/api")} (tlds ${version("tlds")}), node ${process.version}`;
for (const row of table.rows) {
  row.x_weighted_length = twitterText.parseTweet(row.text).weightedLength;
  row.bluesky_facets = facetsOf(row.text);
  row.bluesky_graphemes = new RichText({ text: row.text }).graphemeLength;
}
fs.writeFileSync(path, JSON.stringify(table, null, 1) + "\n");

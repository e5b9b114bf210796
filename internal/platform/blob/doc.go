// Package blob is Plinth's blob store: content-addressed objects (model
// artifacts) and plain keys (offline logs), on a local directory, an
// S3-compatible bucket, or memory, through gocloud.dev/blob.
//
// # Backends by URL
//
//   - "" (the default): the directory <data dir>/blobs, created if missing.
//   - file:///abs/dir: another directory.
//   - s3://bucket?endpoint=http://host:9000&use_path_style=true&region=us-east-1:
//     an S3-compatible bucket; credentials come from the usual AWS sources
//     (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, shared files, roles).
//   - mem://: process memory, for tests.
//
// # Content addressing
//
// [Store.Put] streams its input into a temporary key while hashing it, then
// moves it to sha256/<first two hex digits>/<hex>. A blob is therefore
// visible under its hash only once complete and verified, and an upload that
// fails (too large, wrong checksum, cancelled, backend error) leaves nothing
// behind, as far as the backend allows a delete: on the directory backend a
// process killed mid-write can strand a temporary file next to the blobs.
// Identical content is stored once.
//
// A Store is safe for concurrent use. Keys under "sha256/" and "tmp/" belong
// to the content-addressed store; [Store.PutKey] refuses them.
package blob

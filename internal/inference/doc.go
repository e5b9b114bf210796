// Package inference is the prediction service (target "inference", flags
// inference.*). It is stateless apart from caches: it loads each model's
// champion and challenger from the model registry, follows the MODELS
// stream and swaps new versions in atomically (a request finishes on the
// version it started with), splits traffic between champion and
// challenger, and logs predictions to PREDICTIONS.
//
// It exposes:
//
//   - POST /v1/models/{name}:predict — Plinth's own API: named features
//     ({"features": {"amount": 12.5}}), positional features
//     ({"features": [12.5, 3]}), or an entity key ({"entity": "card-1"})
//     whose features come from the feature store. It answers the score (or
//     the top-k items of a recommender), the version and the traffic arm.
//     Errors are problem documents.
//   - The Open Inference Protocol (KServe V2) over REST under /v2 (with the
//     binary tensor data extension and GET /v2/models) and over gRPC
//     (service inference.GRPCInferenceService, raw_input_contents
//     included). Errors are {"error": "…"} and gRPC status codes. The gRPC
//     ModelInfer handler reads the request's protobuf encoding and writes
//     the reply's by hand (wire.go, checked against the generated code by
//     FuzzDecodeWire) on a server built with server.GRPCCodec (with
//     grpc-go's own codec it goes through the generated messages); a
//     malformed request is INVALID_ARGUMENT, like any other bad input.
//
// Runtimes: Plinth artifacts (the header's kind picks ml/gbdt, ml/linear,
// ml/iforest or ml/mf top-k), XGBoost JSON (imported into ml/gbdt), and
// remote models: a version of format "remote" whose URI is a model on any
// server that speaks the Open Inference Protocol over REST.
//
// Traffic: with the model's Traffic.ChallengerPercent p, p percent of
// routing keys go to the challenger. The key is the entity, else the
// --inference.route-header header, else random; the hash is deterministic,
// so a key sticks to its arm on every replica. With Traffic.Shadow the
// challenger also scores champion requests asynchronously, is logged with
// arm "shadow", and never answers. A request naming a version (/v2
// …/versions/{v}, or "version" in /v1) is pinned: it answers with that
// version, loading it in the background (503 meanwhile).
//
// Which feature view a model reads: the version's tag "feature_view", else
// the model's tag "feature_view". Batching: --inference.batching for every
// model, overridden per model by the model tag "inference.batching" (on or
// off), read when a version loads.
//
// It depends on the registry's API (in process, or its gRPC client with
// --registry.addr), the bus (MODELS in, PREDICTIONS out) and,
// optionally, a FeatureStore.
package inference

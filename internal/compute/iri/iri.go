// Package iri speaks the DOE IRI Facility API v2 (the OpenAPI 3.1 document
// in testdata/all_spec_v2.yaml, upstream doe-iri/iri-facility-api-docs) in
// both directions.
//
// Client is a compute.Backend for one compute resource of an IRI facility:
//
//   - Submit posts the PSI/J job (POST /compute/job/{resource_id}) with an
//     Idempotency-Key that is a version-5 UUID of the resource and the
//     Genesis job ID, so a retried Submit returns the first submission's
//     job; a 409 (the same key in flight) is retried until ctx ends. The
//     directory and stream paths are sent absolute, and jobs without
//     stdout/stderr paths get .genesis-ID.out/.err in their directory.
//   - The project goes in attributes.account when the spec names one, else
//     in the X-IRI-Facility-Project header (the spec wants exactly one).
//   - Status maps the spec's states (new/queued/held → queued, active →
//     running, completed, failed, canceled); the spec has no failure
//     reason, so it is read from meta_data.reason (which the Provider
//     writes), else guessed from the message (time limit → timeout), else
//     the exit code.
//   - Logs reads the job's stream file through filesystem/view tasks (the
//     spec has no log endpoint), lazily in 4 MiB chunks; text only, as the
//     view result is a JSON string.
//   - Errors: 404 NotExist; 401 Unauthenticated; 403 Permission; other 4xx
//     and 501 Invalid with the facility's problem detail; 409, 429, other
//     5xx and no answer Transient.
//   - Facility, Resources, ResourceStatus, Incidents, Capabilities,
//     Projects and Allocations read the facility, status and account APIs.
//
// A resubmission whose request differs from the first (another work
// directory, say) is refused by the facility (422, Invalid) instead of
// returning the first job: the spec binds an Idempotency-Key to its body.
//
// Provider is the other direction: an http.Handler serving the IRI API over
// Genesis compute backends, one per resource_id, so that a Genesis site can
// be reached as an IRI facility. It implements the compute operations
// (submit with Idempotency-Key replay, 409 in flight and 422 on a changed
// body; status; list with state/name filters; cancel), filesystem/view for
// the stream files of the caller's own jobs (as already-completed tasks),
// tasks, and read-only facility, site, resource status, incident,
// capability, project and project-allocation documents from its
// configuration. Job records persist under its root, so a restarted
// provider still answers for its jobs and replays idempotent submissions.
// Operations it does not implement (job update, other filesystem
// operations, user allocations, events, storage) answer 501.
//
// What the provider guarantees and assumes:
//
//   - Every compute, filesystem, task and project call needs a bearer token
//     from its configuration; a user sees only their own jobs and tasks
//     (others' are 404) and may charge only projects they are members of.
//     The project (attributes.account or X-IRI-Facility-Project, exactly
//     one) is passed to the backend as the job's account.
//   - With an Idempotency-Key, the job ID is derived from (user, resource,
//     key), so a provider that dies mid-submit resubmits the same ID to the
//     backend, which is idempotent by it: no duplicate job.
//   - A job runs in its directory when that is absolute and under one of
//     the allowed directories, else in a fresh Root/work/ID (relative
//     directories below it). The check is lexical: jobs run with the
//     backend's user's permissions, which govern the rest.
//   - filesystem/view reads only the stdout/stderr files of the caller's
//     own jobs, through the backend's Logs: the provider is no file server.
//   - A status's time is when the provider answered (Genesis backends do not
//     report transition times); meta_data.reason carries Genesis's reason.
//   - Specs using pre_launch, post_launch, launcher, or container volume
//     mounts, and members the schemas do not list, are refused (422), never
//     silently dropped; inherit_environment is accepted and ignored (jobs
//     get the backend's base environment, as in Genesis).
//
// Why hand-written types instead of a generated client: the spec is
// OpenAPI 3.1 whose optional members are anyOf-with-null unions; generators
// (oapi-codegen targets 3.0) turn those into wrapper types around every
// field, and would generate all 47 operations to use 14. The ~20 structs
// here follow the schemas member for member, and the tests check every
// request and response the provider sees against the document itself with
// kin-openapi, which keeps them honest.
package iri

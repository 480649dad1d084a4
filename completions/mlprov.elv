
use builtin;
use str;

set edit:completion:arg-completer[mlprov] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'mlprov'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'mlprov'= {
            cand --format 'Output format: human-readable text or a JSON document on stdout (`mlprov graph` also draws `dot` and `mermaid`)'
            cand -C 'Run as if mlprov was started in DIR'
            cand --color 'When to use colors on the terminal'
            cand -q 'Print less: errors only'
            cand --quiet 'Print less: errors only'
            cand -v 'Print more detail (repeat for even more)'
            cand --verbose 'Print more detail (repeat for even more)'
            cand --offline 'Never touch the network: resolve from local caches only'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand init 'Write an mlprov.toml for this training repository'
            cand pin 'Resolve every input to immutable bytes and write mlprov.lock'
            cand scan 'Scan model files for code and for unsafe or malformed formats'
            cand build 'Check the inputs, run and record the training, and write provenance and SBOMs'
            cand push 'Push the built model to an OCI registry (ModelPack), with its bundles as referrers'
            cand pull 'Pull a model from an OCI registry, verify it, then place its files'
            cand keygen 'Make a cosign-compatible key pair: cosign.key (encrypted) and cosign.pub'
            cand sign 'Sign a model''s files as an OpenSSF Model Signing bundle (model.sig)'
            cand attest 'Sign the build''s provenance and SBOM, or any predicate, into Sigstore bundles'
            cand verify 'Verify a model: its files, signatures, signers and required attestations'
            cand graph 'Draw the verified provenance graph (DOT, Mermaid or JSON)'
            cand why 'List every artifact (in the local store or a registry) that descends from DIGEST or NAME'
            cand revoke 'Sign a revocation list (for `revocation-list` in [policy])'
            cand completions 'Print shell completions'
            cand man 'Print the man page (or write all pages to a directory)'
            cand schema 'Print the JSON Schema of mlprov.toml'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'mlprov;init'= {
            cand --template 'What this repository produces'
            cand --name 'Logical artifact name, e.g. acme/support-llama'
            cand --artifact-version 'Artifact version'
            cand --license 'SPDX license expression of the output'
            cand --base-model 'Base model: a Hugging Face repo id (org/name[@revision]) or a local path'
            cand --dataset 'Training dataset: a local path or hf-dataset:org/name[@revision]'
            cand --output 'The build''s output directory'
            cand --format 'Output format: human-readable text or a JSON document on stdout (`mlprov graph` also draws `dot` and `mermaid`)'
            cand -C 'Run as if mlprov was started in DIR'
            cand --color 'When to use colors on the terminal'
            cand -y 'Accept detected values and defaults without prompting'
            cand --yes 'Accept detected values and defaults without prompting'
            cand --force 'Overwrite an existing mlprov.toml'
            cand -q 'Print less: errors only'
            cand --quiet 'Print less: errors only'
            cand -v 'Print more detail (repeat for even more)'
            cand --verbose 'Print more detail (repeat for even more)'
            cand --offline 'Never touch the network: resolve from local caches only'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'mlprov;pin'= {
            cand --update 'Re-resolve this input''s moving revision (branch or tag). Repeatable'
            cand --format 'Output format: human-readable text or a JSON document on stdout (`mlprov graph` also draws `dot` and `mermaid`)'
            cand -C 'Run as if mlprov was started in DIR'
            cand --color 'When to use colors on the terminal'
            cand --locked 'Fail (exit 1) if the lock would change, naming the inputs; write nothing'
            cand -q 'Print less: errors only'
            cand --quiet 'Print less: errors only'
            cand -v 'Print more detail (repeat for even more)'
            cand --verbose 'Print more detail (repeat for even more)'
            cand --offline 'Never touch the network: resolve from local caches only'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'mlprov;scan'= {
            cand --deny 'Fail on this kind too, like `[policy] formats.deny` (e.g. `pickle`). Repeatable'
            cand --allow 'Allow findings of a kind, or `KIND:SUBJECT` (e.g. `pickle-global:sklearn.*`), like `[policy] formats.allow`. Repeatable'
            cand --policy 'Read `[policy] formats` from this file (an mlprov.toml or a policy.toml); --deny and --allow add to it'
            cand --format 'Output format: human-readable text or a JSON document on stdout (`mlprov graph` also draws `dot` and `mermaid`)'
            cand -C 'Run as if mlprov was started in DIR'
            cand --color 'When to use colors on the terminal'
            cand --include-git 'Also scan `.git/`, `.github/`, `.gitattributes` and `.gitignore`'
            cand -q 'Print less: errors only'
            cand --quiet 'Print less: errors only'
            cand -v 'Print more detail (repeat for even more)'
            cand --verbose 'Print more detail (repeat for even more)'
            cand --offline 'Never touch the network: resolve from local caches only'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'mlprov;build'= {
            cand --run 'Import a run record made elsewhere (a run.json) instead of running a command'
            cand --param 'Record an extra hyperparameter. Repeatable'
            cand --format 'Output format: human-readable text or a JSON document on stdout (`mlprov graph` also draws `dot` and `mermaid`)'
            cand -C 'Run as if mlprov was started in DIR'
            cand --color 'When to use colors on the terminal'
            cand --allow-dirty 'Build from a git tree with uncommitted changes (recorded in the run)'
            cand --cyclonedx 'Also write a CycloneDX 1.6 ML-BOM (default: [build] cyclonedx)'
            cand --skip-training 'Do not run [training] command: hash and describe the outputs as they are'
            cand -q 'Print less: errors only'
            cand --quiet 'Print less: errors only'
            cand -v 'Print more detail (repeat for even more)'
            cand --verbose 'Print more detail (repeat for even more)'
            cand --offline 'Never touch the network: resolve from local caches only'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'mlprov;push'= {
            cand --username 'Registry user name; the password is read from stdin (--password-stdin)'
            cand --timeout 'Seconds without progress before a registry request is retried'
            cand --format 'Output format: human-readable text or a JSON document on stdout (`mlprov graph` also draws `dot` and `mermaid`)'
            cand -C 'Run as if mlprov was started in DIR'
            cand --color 'When to use colors on the terminal'
            cand --plain-http 'Talk plain HTTP to the registry (a local registry)'
            cand --insecure 'Accept any TLS certificate from the registry'
            cand --password-stdin 'Read the registry password from stdin (with --username)'
            cand -q 'Print less: errors only'
            cand --quiet 'Print less: errors only'
            cand -v 'Print more detail (repeat for even more)'
            cand --verbose 'Print more detail (repeat for even more)'
            cand --offline 'Never touch the network: resolve from local caches only'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'mlprov;pull'= {
            cand -o 'Directory to place the files in; must be absent or empty (default: the repository''s last path part)'
            cand --output 'Directory to place the files in; must be absent or empty (default: the repository''s last path part)'
            cand --key 'A trusted public key (PEM). Repeatable'
            cand --certificate-chain 'Trusted certificates (PEM) for certificate-signed bundles. Repeatable'
            cand --require 'A predicate type that must be proven (e.g. https://slsa.dev/provenance/v1). Repeatable'
            cand --certificate-identity 'Trust keyless signatures by exactly this identity: the certificate''s email or URI (for GitHub Actions, https://github.com/OWNER/REPO/.github/workflows/FILE@REF)'
            cand --certificate-identity-regexp 'Trust keyless signatures whose identity matches this regular expression in full. A loose pattern trusts anyone who can get a certificate: prefer --certificate-identity'
            cand --certificate-oidc-issuer 'The OIDC issuer of the trusted identity, matched exactly (e.g. https://token.actions.githubusercontent.com)'
            cand --trusted-root 'Sigstore trusted root (trusted_root.json) with the Fulcio CAs, Rekor logs and CT logs to trust: for private deployments and air-gapped machines (default: the last --refresh-trusted-root, else the public-good root built into mlprov)'
            cand --username 'Registry user name; the password is read from stdin (--password-stdin)'
            cand --timeout 'Seconds without progress before a registry request is retried'
            cand --policy 'A policy: a .toml file (`[policy]` or policy keys; replaces mlprov.toml''s [policy]) or a .rego file (deny rules, evaluated per node). Repeatable: one .toml, any number of .rego'
            cand --policy-query 'The Rego rule whose set of messages denies a node'
            cand --policy-scope 'Where Rego rules run: every node of the graph, or the verified artifact only'
            cand --max-depth 'How deep to walk resolvedDependencies; a deeper graph fails verification'
            cand --format 'Output format: human-readable text or a JSON document on stdout (`mlprov graph` also draws `dot` and `mermaid`)'
            cand -C 'Run as if mlprov was started in DIR'
            cand --color 'When to use colors on the terminal'
            cand --no-verify 'Skip signature and policy verification (the downloaded bytes are still checked against their digests)'
            cand --require-tlog 'Key-signed bundles must carry a transparency log entry (with a signed entry timestamp) that verifies against the trusted root''s Rekor logs, as cosign --key requires. Keyless bundles always must'
            cand --refresh-trusted-root 'Fetch the current public-good trusted root over TUF first (needs the network)'
            cand --plain-http 'Talk plain HTTP to the registry (a local registry)'
            cand --insecure 'Accept any TLS certificate from the registry'
            cand --password-stdin 'Read the registry password from stdin (with --username)'
            cand -q 'Print less: errors only'
            cand --quiet 'Print less: errors only'
            cand -v 'Print more detail (repeat for even more)'
            cand --verbose 'Print more detail (repeat for even more)'
            cand --offline 'Never touch the network: resolve from local caches only'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'mlprov;keygen'= {
            cand --output-key-prefix 'Write PREFIX.key and PREFIX.pub'
            cand --format 'Output format: human-readable text or a JSON document on stdout (`mlprov graph` also draws `dot` and `mermaid`)'
            cand -C 'Run as if mlprov was started in DIR'
            cand --color 'When to use colors on the terminal'
            cand --no-password 'Write the private key unencrypted (PKCS#8 PEM). Only for throwaway keys'
            cand --force 'Overwrite existing key files'
            cand -q 'Print less: errors only'
            cand --quiet 'Print less: errors only'
            cand -v 'Print more detail (repeat for even more)'
            cand --verbose 'Print more detail (repeat for even more)'
            cand --offline 'Never touch the network: resolve from local caches only'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'mlprov;sign'= {
            cand --key 'Private key (cosign format, or PKCS#8/SEC1 PEM). Password from MLPROV_PASSWORD, COSIGN_PASSWORD or a prompt'
            cand --identity-token 'The OIDC identity token (a JWT with audience `sigstore`) to sign keyless with'
            cand --fulcio-url 'Fulcio (the certificate authority) to use'
            cand --rekor-url 'Rekor (the transparency log) to use (default: https://rekor.sigstore.dev). Naming one also logs key-signed bundles there, unless --tlog-upload=false'
            cand --tlog-upload 'Log key-signed bundles in Rekor and put the inclusion proof, checkpoint and signed entry timestamp in the bundle, as cosign does (default: on when --rekor-url or MLPROV_REKOR_URL is given). Keyless signing always logs'
            cand --oidc-issuer 'OIDC issuer for the browser sign-in'
            cand --oidc-client-id 'OIDC client ID for the browser sign-in'
            cand --trusted-root 'Sigstore trusted root (trusted_root.json) to check the certificate and log entry against; needed with a private --fulcio-url/--rekor-url (default: the last --refresh-trusted-root, else the public-good root built into mlprov)'
            cand --signature 'Where to write the signature (default: PATH/model.sig)'
            cand --ignore-paths 'Leave these paths (relative to the model) out of the signature. Repeatable'
            cand --format 'Output format: human-readable text or a JSON document on stdout (`mlprov graph` also draws `dot` and `mermaid`)'
            cand -C 'Run as if mlprov was started in DIR'
            cand --color 'When to use colors on the terminal'
            cand --keyless 'Sign keyless with Sigstore instead of a key: a short-lived Fulcio certificate for your OIDC identity (GitHub Actions'' job token, --identity-token, or a browser sign-in), with the signature logged in Rekor'
            cand --no-ignore-git-paths 'Sign .git/, .github/, .gitattributes and .gitignore too'
            cand --allow-symlinks 'Follow symlinks that stay inside the model instead of refusing them'
            cand -q 'Print less: errors only'
            cand --quiet 'Print less: errors only'
            cand -v 'Print more detail (repeat for even more)'
            cand --verbose 'Print more detail (repeat for even more)'
            cand --offline 'Never touch the network: resolve from local caches only'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'mlprov;attest'= {
            cand --key 'Private key to sign with (cosign format, or PKCS#8/SEC1 PEM). Password from MLPROV_PASSWORD, COSIGN_PASSWORD or a prompt'
            cand --identity-token 'The OIDC identity token (a JWT with audience `sigstore`) to sign keyless with'
            cand --fulcio-url 'Fulcio (the certificate authority) to use'
            cand --rekor-url 'Rekor (the transparency log) to use (default: https://rekor.sigstore.dev). Naming one also logs key-signed bundles there, unless --tlog-upload=false'
            cand --tlog-upload 'Log key-signed bundles in Rekor and put the inclusion proof, checkpoint and signed entry timestamp in the bundle, as cosign does (default: on when --rekor-url or MLPROV_REKOR_URL is given). Keyless signing always logs'
            cand --oidc-issuer 'OIDC issuer for the browser sign-in'
            cand --oidc-client-id 'OIDC client ID for the browser sign-in'
            cand --trusted-root 'Sigstore trusted root (trusted_root.json) to check the certificate and log entry against; needed with a private --fulcio-url/--rekor-url (default: the last --refresh-trusted-root, else the public-good root built into mlprov)'
            cand --type 'Attest this predicate type (a URI) about the built artifact; needs --predicate'
            cand --predicate 'The predicate document (JSON) for --type'
            cand --format 'Output format: human-readable text or a JSON document on stdout (`mlprov graph` also draws `dot` and `mermaid`)'
            cand -C 'Run as if mlprov was started in DIR'
            cand --color 'When to use colors on the terminal'
            cand --keyless 'Sign keyless with Sigstore instead of a key: a short-lived Fulcio certificate for your OIDC identity (GitHub Actions'' job token, --identity-token, or a browser sign-in), with the signature logged in Rekor'
            cand -q 'Print less: errors only'
            cand --quiet 'Print less: errors only'
            cand -v 'Print more detail (repeat for even more)'
            cand --verbose 'Print more detail (repeat for even more)'
            cand --offline 'Never touch the network: resolve from local caches only'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand import 'Attest where a third-party input in mlprov.lock came from (import provenance)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'mlprov;attest;import'= {
            cand --key 'Private key to sign with'
            cand --identity-token 'The OIDC identity token (a JWT with audience `sigstore`) to sign keyless with'
            cand --fulcio-url 'Fulcio (the certificate authority) to use'
            cand --rekor-url 'Rekor (the transparency log) to use (default: https://rekor.sigstore.dev). Naming one also logs key-signed bundles there, unless --tlog-upload=false'
            cand --tlog-upload 'Log key-signed bundles in Rekor and put the inclusion proof, checkpoint and signed entry timestamp in the bundle, as cosign does (default: on when --rekor-url or MLPROV_REKOR_URL is given). Keyless signing always logs'
            cand --oidc-issuer 'OIDC issuer for the browser sign-in'
            cand --oidc-client-id 'OIDC client ID for the browser sign-in'
            cand --trusted-root 'Sigstore trusted root (trusted_root.json) to check the certificate and log entry against; needed with a private --fulcio-url/--rekor-url (default: the last --refresh-trusted-root, else the public-good root built into mlprov)'
            cand --format 'Output format: human-readable text or a JSON document on stdout (`mlprov graph` also draws `dot` and `mermaid`)'
            cand -C 'Run as if mlprov was started in DIR'
            cand --color 'When to use colors on the terminal'
            cand --keyless 'Sign keyless with Sigstore instead of a key: a short-lived Fulcio certificate for your OIDC identity (GitHub Actions'' job token, --identity-token, or a browser sign-in), with the signature logged in Rekor'
            cand -q 'Print less: errors only'
            cand --quiet 'Print less: errors only'
            cand -v 'Print more detail (repeat for even more)'
            cand --verbose 'Print more detail (repeat for even more)'
            cand --offline 'Never touch the network: resolve from local caches only'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'mlprov;attest;help'= {
            cand import 'Attest where a third-party input in mlprov.lock came from (import provenance)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'mlprov;attest;help;import'= {
        }
        &'mlprov;attest;help;help'= {
        }
        &'mlprov;verify'= {
            cand --key 'A trusted public key (PEM). Repeatable'
            cand --certificate-chain 'Trusted certificates (PEM) for certificate-signed bundles. Repeatable'
            cand --require 'A predicate type that must be proven (e.g. https://slsa.dev/provenance/v1). Repeatable'
            cand --certificate-identity 'Trust keyless signatures by exactly this identity: the certificate''s email or URI (for GitHub Actions, https://github.com/OWNER/REPO/.github/workflows/FILE@REF)'
            cand --certificate-identity-regexp 'Trust keyless signatures whose identity matches this regular expression in full. A loose pattern trusts anyone who can get a certificate: prefer --certificate-identity'
            cand --certificate-oidc-issuer 'The OIDC issuer of the trusted identity, matched exactly (e.g. https://token.actions.githubusercontent.com)'
            cand --trusted-root 'Sigstore trusted root (trusted_root.json) with the Fulcio CAs, Rekor logs and CT logs to trust: for private deployments and air-gapped machines (default: the last --refresh-trusted-root, else the public-good root built into mlprov)'
            cand --signature 'The model''s signature (default: TARGET/model.sig)'
            cand --bundle 'Another bundle that must verify and be about the model. Repeatable'
            cand --ignore-paths 'Leave these paths (relative to the model) out of the file check. Repeatable'
            cand --username 'Registry user name; the password is read from stdin (--password-stdin)'
            cand --timeout 'Seconds without progress before a registry request is retried'
            cand --policy 'A policy: a .toml file (`[policy]` or policy keys; replaces mlprov.toml''s [policy]) or a .rego file (deny rules, evaluated per node). Repeatable: one .toml, any number of .rego'
            cand --policy-query 'The Rego rule whose set of messages denies a node'
            cand --policy-scope 'Where Rego rules run: every node of the graph, or the verified artifact only'
            cand --max-depth 'How deep to walk resolvedDependencies; a deeper graph fails verification'
            cand --emit-vsa 'Write a SLSA Verification Summary (VSA) of the result to FILE'
            cand --vsa-key 'Sign the VSA with this private key (a Sigstore bundle); else a bare statement'
            cand --tlog-upload 'Log the signed VSA in Rekor, as `sign --tlog-upload` does (default: on when --rekor-url or MLPROV_REKOR_URL is given)'
            cand --rekor-url 'Rekor to log the signed VSA in (default: https://rekor.sigstore.dev)'
            cand --format 'Output format: human-readable text or a JSON document on stdout (`mlprov graph` also draws `dot` and `mermaid`)'
            cand -C 'Run as if mlprov was started in DIR'
            cand --color 'When to use colors on the terminal'
            cand --require-tlog 'Key-signed bundles must carry a transparency log entry (with a signed entry timestamp) that verifies against the trusted root''s Rekor logs, as cosign --key requires. Keyless bundles always must'
            cand --refresh-trusted-root 'Fetch the current public-good trusted root over TUF first (needs the network)'
            cand --plain-http 'Talk plain HTTP to the registry (a local registry)'
            cand --insecure 'Accept any TLS certificate from the registry'
            cand --password-stdin 'Read the registry password from stdin (with --username)'
            cand -q 'Print less: errors only'
            cand --quiet 'Print less: errors only'
            cand -v 'Print more detail (repeat for even more)'
            cand --verbose 'Print more detail (repeat for even more)'
            cand --offline 'Never touch the network: resolve from local caches only'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'mlprov;graph'= {
            cand --key 'A trusted public key (PEM). Repeatable'
            cand --certificate-chain 'Trusted certificates (PEM) for certificate-signed bundles. Repeatable'
            cand --require 'A predicate type that must be proven (e.g. https://slsa.dev/provenance/v1). Repeatable'
            cand --certificate-identity 'Trust keyless signatures by exactly this identity: the certificate''s email or URI (for GitHub Actions, https://github.com/OWNER/REPO/.github/workflows/FILE@REF)'
            cand --certificate-identity-regexp 'Trust keyless signatures whose identity matches this regular expression in full. A loose pattern trusts anyone who can get a certificate: prefer --certificate-identity'
            cand --certificate-oidc-issuer 'The OIDC issuer of the trusted identity, matched exactly (e.g. https://token.actions.githubusercontent.com)'
            cand --trusted-root 'Sigstore trusted root (trusted_root.json) with the Fulcio CAs, Rekor logs and CT logs to trust: for private deployments and air-gapped machines (default: the last --refresh-trusted-root, else the public-good root built into mlprov)'
            cand --signature 'The model''s signature (default: TARGET/model.sig)'
            cand --bundle 'Another bundle that must verify and be about the model. Repeatable'
            cand --ignore-paths 'Leave these paths (relative to the model) out of the file check. Repeatable'
            cand --username 'Registry user name; the password is read from stdin (--password-stdin)'
            cand --timeout 'Seconds without progress before a registry request is retried'
            cand --policy 'A policy: a .toml file (`[policy]` or policy keys; replaces mlprov.toml''s [policy]) or a .rego file (deny rules, evaluated per node). Repeatable: one .toml, any number of .rego'
            cand --policy-query 'The Rego rule whose set of messages denies a node'
            cand --policy-scope 'Where Rego rules run: every node of the graph, or the verified artifact only'
            cand --max-depth 'How deep to walk resolvedDependencies; a deeper graph fails verification'
            cand --emit-vsa 'Write a SLSA Verification Summary (VSA) of the result to FILE'
            cand --vsa-key 'Sign the VSA with this private key (a Sigstore bundle); else a bare statement'
            cand --tlog-upload 'Log the signed VSA in Rekor, as `sign --tlog-upload` does (default: on when --rekor-url or MLPROV_REKOR_URL is given)'
            cand --rekor-url 'Rekor to log the signed VSA in (default: https://rekor.sigstore.dev)'
            cand --format 'Output format: human-readable text or a JSON document on stdout (`mlprov graph` also draws `dot` and `mermaid`)'
            cand -C 'Run as if mlprov was started in DIR'
            cand --color 'When to use colors on the terminal'
            cand --require-tlog 'Key-signed bundles must carry a transparency log entry (with a signed entry timestamp) that verifies against the trusted root''s Rekor logs, as cosign --key requires. Keyless bundles always must'
            cand --refresh-trusted-root 'Fetch the current public-good trusted root over TUF first (needs the network)'
            cand --plain-http 'Talk plain HTTP to the registry (a local registry)'
            cand --insecure 'Accept any TLS certificate from the registry'
            cand --password-stdin 'Read the registry password from stdin (with --username)'
            cand -q 'Print less: errors only'
            cand --quiet 'Print less: errors only'
            cand -v 'Print more detail (repeat for even more)'
            cand --verbose 'Print more detail (repeat for even more)'
            cand --offline 'Never touch the network: resolve from local caches only'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'mlprov;why'= {
            cand --key 'Count only provenance signed by these keys (PEM). Without keys, every provenance statement read counts, signed by anyone'
            cand --registry 'Read the models of this registry repository (every tag; or one, as REPO:TAG) and their bundle referrers instead of the local store. Repeatable'
            cand --username 'Registry user name; the password is read from stdin (--password-stdin)'
            cand --timeout 'Seconds without progress before a registry request is retried'
            cand --format 'Output format: human-readable text or a JSON document on stdout (`mlprov graph` also draws `dot` and `mermaid`)'
            cand -C 'Run as if mlprov was started in DIR'
            cand --color 'When to use colors on the terminal'
            cand --plain-http 'Talk plain HTTP to the registry (a local registry)'
            cand --insecure 'Accept any TLS certificate from the registry'
            cand --password-stdin 'Read the registry password from stdin (with --username)'
            cand -q 'Print less: errors only'
            cand --quiet 'Print less: errors only'
            cand -v 'Print more detail (repeat for even more)'
            cand --verbose 'Print more detail (repeat for even more)'
            cand --offline 'Never touch the network: resolve from local caches only'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'mlprov;revoke'= {
            cand --reason 'Why (recorded with each digest)'
            cand --key 'Private key to sign the list with'
            cand -o 'The revocation list to write; an existing list signed by the same key is extended'
            cand --output 'The revocation list to write; an existing list signed by the same key is extended'
            cand --format 'Output format: human-readable text or a JSON document on stdout (`mlprov graph` also draws `dot` and `mermaid`)'
            cand -C 'Run as if mlprov was started in DIR'
            cand --color 'When to use colors on the terminal'
            cand -q 'Print less: errors only'
            cand --quiet 'Print less: errors only'
            cand -v 'Print more detail (repeat for even more)'
            cand --verbose 'Print more detail (repeat for even more)'
            cand --offline 'Never touch the network: resolve from local caches only'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'mlprov;completions'= {
            cand --format 'Output format: human-readable text or a JSON document on stdout (`mlprov graph` also draws `dot` and `mermaid`)'
            cand -C 'Run as if mlprov was started in DIR'
            cand --color 'When to use colors on the terminal'
            cand -q 'Print less: errors only'
            cand --quiet 'Print less: errors only'
            cand -v 'Print more detail (repeat for even more)'
            cand --verbose 'Print more detail (repeat for even more)'
            cand --offline 'Never touch the network: resolve from local caches only'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'mlprov;man'= {
            cand --out-dir 'Write mlprov.1 and one page per subcommand into this directory'
            cand --format 'Output format: human-readable text or a JSON document on stdout (`mlprov graph` also draws `dot` and `mermaid`)'
            cand -C 'Run as if mlprov was started in DIR'
            cand --color 'When to use colors on the terminal'
            cand -q 'Print less: errors only'
            cand --quiet 'Print less: errors only'
            cand -v 'Print more detail (repeat for even more)'
            cand --verbose 'Print more detail (repeat for even more)'
            cand --offline 'Never touch the network: resolve from local caches only'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'mlprov;schema'= {
            cand --format 'Output format: human-readable text or a JSON document on stdout (`mlprov graph` also draws `dot` and `mermaid`)'
            cand -C 'Run as if mlprov was started in DIR'
            cand --color 'When to use colors on the terminal'
            cand -q 'Print less: errors only'
            cand --quiet 'Print less: errors only'
            cand -v 'Print more detail (repeat for even more)'
            cand --verbose 'Print more detail (repeat for even more)'
            cand --offline 'Never touch the network: resolve from local caches only'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'mlprov;help'= {
            cand init 'Write an mlprov.toml for this training repository'
            cand pin 'Resolve every input to immutable bytes and write mlprov.lock'
            cand scan 'Scan model files for code and for unsafe or malformed formats'
            cand build 'Check the inputs, run and record the training, and write provenance and SBOMs'
            cand push 'Push the built model to an OCI registry (ModelPack), with its bundles as referrers'
            cand pull 'Pull a model from an OCI registry, verify it, then place its files'
            cand keygen 'Make a cosign-compatible key pair: cosign.key (encrypted) and cosign.pub'
            cand sign 'Sign a model''s files as an OpenSSF Model Signing bundle (model.sig)'
            cand attest 'Sign the build''s provenance and SBOM, or any predicate, into Sigstore bundles'
            cand verify 'Verify a model: its files, signatures, signers and required attestations'
            cand graph 'Draw the verified provenance graph (DOT, Mermaid or JSON)'
            cand why 'List every artifact (in the local store or a registry) that descends from DIGEST or NAME'
            cand revoke 'Sign a revocation list (for `revocation-list` in [policy])'
            cand completions 'Print shell completions'
            cand man 'Print the man page (or write all pages to a directory)'
            cand schema 'Print the JSON Schema of mlprov.toml'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'mlprov;help;init'= {
        }
        &'mlprov;help;pin'= {
        }
        &'mlprov;help;scan'= {
        }
        &'mlprov;help;build'= {
        }
        &'mlprov;help;push'= {
        }
        &'mlprov;help;pull'= {
        }
        &'mlprov;help;keygen'= {
        }
        &'mlprov;help;sign'= {
        }
        &'mlprov;help;attest'= {
            cand import 'Attest where a third-party input in mlprov.lock came from (import provenance)'
        }
        &'mlprov;help;attest;import'= {
        }
        &'mlprov;help;verify'= {
        }
        &'mlprov;help;graph'= {
        }
        &'mlprov;help;why'= {
        }
        &'mlprov;help;revoke'= {
        }
        &'mlprov;help;completions'= {
        }
        &'mlprov;help;man'= {
        }
        &'mlprov;help;schema'= {
        }
        &'mlprov;help;help'= {
        }
    ]
    $completions[$command]
}

# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_mlprov_global_optspecs
    string join \n format= C= q/quiet v/verbose color= offline h/help V/version
end

function __fish_mlprov_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_mlprov_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_mlprov_using_subcommand
    set -l cmd (__fish_mlprov_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c mlprov -n "__fish_mlprov_needs_command" -l format -d 'Output format: human-readable text or a JSON document on stdout (`mlprov graph` also draws `dot` and `mermaid`)' -r -f -a "human\t''
json\t''
dot\t''
mermaid\t''"
complete -c mlprov -n "__fish_mlprov_needs_command" -s C -d 'Run as if mlprov was started in DIR' -r -F
complete -c mlprov -n "__fish_mlprov_needs_command" -l color -d 'When to use colors on the terminal' -r -f -a "auto\t''
always\t''
never\t''"
complete -c mlprov -n "__fish_mlprov_needs_command" -s q -l quiet -d 'Print less: errors only'
complete -c mlprov -n "__fish_mlprov_needs_command" -s v -l verbose -d 'Print more detail (repeat for even more)'
complete -c mlprov -n "__fish_mlprov_needs_command" -l offline -d 'Never touch the network: resolve from local caches only'
complete -c mlprov -n "__fish_mlprov_needs_command" -s h -l help -d 'Print help'
complete -c mlprov -n "__fish_mlprov_needs_command" -s V -l version -d 'Print version'
complete -c mlprov -n "__fish_mlprov_needs_command" -f -a "init" -d 'Write an mlprov.toml for this training repository'
complete -c mlprov -n "__fish_mlprov_needs_command" -f -a "pin" -d 'Resolve every input to immutable bytes and write mlprov.lock'
complete -c mlprov -n "__fish_mlprov_needs_command" -f -a "scan" -d 'Scan model files for code and for unsafe or malformed formats'
complete -c mlprov -n "__fish_mlprov_needs_command" -f -a "build" -d 'Check the inputs, run and record the training, and write provenance and SBOMs'
complete -c mlprov -n "__fish_mlprov_needs_command" -f -a "push" -d 'Push the built model to an OCI registry (ModelPack), with its bundles as referrers'
complete -c mlprov -n "__fish_mlprov_needs_command" -f -a "pull" -d 'Pull a model from an OCI registry, verify it, then place its files'
complete -c mlprov -n "__fish_mlprov_needs_command" -f -a "promote" -d 'Verify a model, copy it with every bundle to another registry, move the tag'
complete -c mlprov -n "__fish_mlprov_needs_command" -f -a "keygen" -d 'Make a cosign-compatible key pair: cosign.key (encrypted) and cosign.pub'
complete -c mlprov -n "__fish_mlprov_needs_command" -f -a "sign" -d 'Sign a model\'s files as an OpenSSF Model Signing bundle (model.sig)'
complete -c mlprov -n "__fish_mlprov_needs_command" -f -a "attest" -d 'Sign the build\'s provenance and SBOM, or any predicate, into Sigstore bundles'
complete -c mlprov -n "__fish_mlprov_needs_command" -f -a "verify" -d 'Verify a model: its files, signatures, signers and required attestations'
complete -c mlprov -n "__fish_mlprov_needs_command" -f -a "graph" -d 'Draw the verified provenance graph (DOT, Mermaid or JSON)'
complete -c mlprov -n "__fish_mlprov_needs_command" -f -a "serve" -d 'Run a Kubernetes admission webhook that admits workloads only when their models verify'
complete -c mlprov -n "__fish_mlprov_needs_command" -f -a "why" -d 'List every artifact (in the local store or a registry) that descends from DIGEST or NAME'
complete -c mlprov -n "__fish_mlprov_needs_command" -f -a "revoke" -d 'Sign a revocation list (for `revocation-list` in [policy])'
complete -c mlprov -n "__fish_mlprov_needs_command" -f -a "completions" -d 'Print shell completions'
complete -c mlprov -n "__fish_mlprov_needs_command" -f -a "man" -d 'Print the man page (or write all pages to a directory)'
complete -c mlprov -n "__fish_mlprov_needs_command" -f -a "schema" -d 'Print the JSON Schema of mlprov.toml, or of a command\'s `--format json` document'
complete -c mlprov -n "__fish_mlprov_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mlprov -n "__fish_mlprov_using_subcommand init" -l template -d 'What this repository produces' -r -f -a "fine-tune\t'Fine-tune a base model on a dataset'
import\t'Import a third-party base model (origin and scan attestations)'
dataset\t'Curate a dataset'
lora\t'Train a LoRA adapter on top of a base model'"
complete -c mlprov -n "__fish_mlprov_using_subcommand init" -l name -d 'Logical artifact name, e.g. acme/support-llama' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand init" -l artifact-version -d 'Artifact version' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand init" -l license -d 'SPDX license expression of the output' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand init" -l base-model -d 'Base model: a Hugging Face repo id (org/name[@revision]) or a local path' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand init" -l dataset -d 'Training dataset: a local path or hf-dataset:org/name[@revision]' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand init" -l output -d 'The build\'s output directory' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand init" -l format -d 'Output format: human-readable text or a JSON document on stdout (`mlprov graph` also draws `dot` and `mermaid`)' -r -f -a "human\t''
json\t''
dot\t''
mermaid\t''"
complete -c mlprov -n "__fish_mlprov_using_subcommand init" -s C -d 'Run as if mlprov was started in DIR' -r -F
complete -c mlprov -n "__fish_mlprov_using_subcommand init" -l color -d 'When to use colors on the terminal' -r -f -a "auto\t''
always\t''
never\t''"
complete -c mlprov -n "__fish_mlprov_using_subcommand init" -s y -l yes -d 'Accept detected values and defaults without prompting'
complete -c mlprov -n "__fish_mlprov_using_subcommand init" -l force -d 'Overwrite an existing mlprov.toml'
complete -c mlprov -n "__fish_mlprov_using_subcommand init" -s q -l quiet -d 'Print less: errors only'
complete -c mlprov -n "__fish_mlprov_using_subcommand init" -s v -l verbose -d 'Print more detail (repeat for even more)'
complete -c mlprov -n "__fish_mlprov_using_subcommand init" -l offline -d 'Never touch the network: resolve from local caches only'
complete -c mlprov -n "__fish_mlprov_using_subcommand init" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mlprov -n "__fish_mlprov_using_subcommand init" -s V -l version -d 'Print version'
complete -c mlprov -n "__fish_mlprov_using_subcommand pin" -l update -d 'Re-resolve this input\'s moving revision (branch or tag). Repeatable' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand pin" -l username -d 'Registry user name; the password is read from stdin (--password-stdin)' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand pin" -l timeout -d 'Seconds without progress before a registry request is retried [default: 60] [env: MLPROV_REGISTRY_TIMEOUT]' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand pin" -l format -d 'Output format: human-readable text or a JSON document on stdout (`mlprov graph` also draws `dot` and `mermaid`)' -r -f -a "human\t''
json\t''
dot\t''
mermaid\t''"
complete -c mlprov -n "__fish_mlprov_using_subcommand pin" -s C -d 'Run as if mlprov was started in DIR' -r -F
complete -c mlprov -n "__fish_mlprov_using_subcommand pin" -l color -d 'When to use colors on the terminal' -r -f -a "auto\t''
always\t''
never\t''"
complete -c mlprov -n "__fish_mlprov_using_subcommand pin" -l locked -d 'Fail (exit 1) if the lock would change, naming the inputs; write nothing'
complete -c mlprov -n "__fish_mlprov_using_subcommand pin" -l plain-http -d 'Talk plain HTTP to the registry (a local registry) [env: MLPROV_REGISTRY_PLAIN_HTTP=1]'
complete -c mlprov -n "__fish_mlprov_using_subcommand pin" -l insecure -d 'Accept any TLS certificate from the registry [env: MLPROV_REGISTRY_INSECURE=1]'
complete -c mlprov -n "__fish_mlprov_using_subcommand pin" -l password-stdin -d 'Read the registry password from stdin (with --username)'
complete -c mlprov -n "__fish_mlprov_using_subcommand pin" -s q -l quiet -d 'Print less: errors only'
complete -c mlprov -n "__fish_mlprov_using_subcommand pin" -s v -l verbose -d 'Print more detail (repeat for even more)'
complete -c mlprov -n "__fish_mlprov_using_subcommand pin" -l offline -d 'Never touch the network: resolve from local caches only'
complete -c mlprov -n "__fish_mlprov_using_subcommand pin" -s h -l help -d 'Print help'
complete -c mlprov -n "__fish_mlprov_using_subcommand pin" -s V -l version -d 'Print version'
complete -c mlprov -n "__fish_mlprov_using_subcommand scan" -l deny -d 'Fail on this kind too, like `[policy] formats.deny` (e.g. `pickle`). Repeatable' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand scan" -l allow -d 'Allow findings of a kind, or `KIND:SUBJECT` (e.g. `pickle-global:sklearn.*`), like `[policy] formats.allow`. Repeatable' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand scan" -l policy -d 'Read `[policy] formats` from this file (an mlprov.toml or a policy.toml); --deny and --allow add to it' -r -F
complete -c mlprov -n "__fish_mlprov_using_subcommand scan" -l format -d 'Output format: human-readable text or a JSON document on stdout (`mlprov graph` also draws `dot` and `mermaid`)' -r -f -a "human\t''
json\t''
dot\t''
mermaid\t''"
complete -c mlprov -n "__fish_mlprov_using_subcommand scan" -s C -d 'Run as if mlprov was started in DIR' -r -F
complete -c mlprov -n "__fish_mlprov_using_subcommand scan" -l color -d 'When to use colors on the terminal' -r -f -a "auto\t''
always\t''
never\t''"
complete -c mlprov -n "__fish_mlprov_using_subcommand scan" -l include-git -d 'Also scan `.git/`, `.github/`, `.gitattributes` and `.gitignore`'
complete -c mlprov -n "__fish_mlprov_using_subcommand scan" -s q -l quiet -d 'Print less: errors only'
complete -c mlprov -n "__fish_mlprov_using_subcommand scan" -s v -l verbose -d 'Print more detail (repeat for even more)'
complete -c mlprov -n "__fish_mlprov_using_subcommand scan" -l offline -d 'Never touch the network: resolve from local caches only'
complete -c mlprov -n "__fish_mlprov_using_subcommand scan" -s h -l help -d 'Print help'
complete -c mlprov -n "__fish_mlprov_using_subcommand scan" -s V -l version -d 'Print version'
complete -c mlprov -n "__fish_mlprov_using_subcommand build" -l run -d 'Import a run record made elsewhere (a run.json) instead of running a command' -r -F
complete -c mlprov -n "__fish_mlprov_using_subcommand build" -l param -d 'Record an extra hyperparameter. Repeatable' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand build" -l format -d 'Output format: human-readable text or a JSON document on stdout (`mlprov graph` also draws `dot` and `mermaid`)' -r -f -a "human\t''
json\t''
dot\t''
mermaid\t''"
complete -c mlprov -n "__fish_mlprov_using_subcommand build" -s C -d 'Run as if mlprov was started in DIR' -r -F
complete -c mlprov -n "__fish_mlprov_using_subcommand build" -l color -d 'When to use colors on the terminal' -r -f -a "auto\t''
always\t''
never\t''"
complete -c mlprov -n "__fish_mlprov_using_subcommand build" -l allow-dirty -d 'Build from a git tree with uncommitted changes (recorded in the run)'
complete -c mlprov -n "__fish_mlprov_using_subcommand build" -l cyclonedx -d 'Also write a CycloneDX 1.6 ML-BOM (default: [build] cyclonedx)'
complete -c mlprov -n "__fish_mlprov_using_subcommand build" -l skip-training -d 'Do not run [training] command: hash and describe the outputs as they are'
complete -c mlprov -n "__fish_mlprov_using_subcommand build" -s q -l quiet -d 'Print less: errors only'
complete -c mlprov -n "__fish_mlprov_using_subcommand build" -s v -l verbose -d 'Print more detail (repeat for even more)'
complete -c mlprov -n "__fish_mlprov_using_subcommand build" -l offline -d 'Never touch the network: resolve from local caches only'
complete -c mlprov -n "__fish_mlprov_using_subcommand build" -s h -l help -d 'Print help'
complete -c mlprov -n "__fish_mlprov_using_subcommand build" -s V -l version -d 'Print version'
complete -c mlprov -n "__fish_mlprov_using_subcommand push" -l username -d 'Registry user name; the password is read from stdin (--password-stdin)' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand push" -l timeout -d 'Seconds without progress before a registry request is retried [default: 60] [env: MLPROV_REGISTRY_TIMEOUT]' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand push" -l format -d 'Output format: human-readable text or a JSON document on stdout (`mlprov graph` also draws `dot` and `mermaid`)' -r -f -a "human\t''
json\t''
dot\t''
mermaid\t''"
complete -c mlprov -n "__fish_mlprov_using_subcommand push" -s C -d 'Run as if mlprov was started in DIR' -r -F
complete -c mlprov -n "__fish_mlprov_using_subcommand push" -l color -d 'When to use colors on the terminal' -r -f -a "auto\t''
always\t''
never\t''"
complete -c mlprov -n "__fish_mlprov_using_subcommand push" -l plain-http -d 'Talk plain HTTP to the registry (a local registry) [env: MLPROV_REGISTRY_PLAIN_HTTP=1]'
complete -c mlprov -n "__fish_mlprov_using_subcommand push" -l insecure -d 'Accept any TLS certificate from the registry [env: MLPROV_REGISTRY_INSECURE=1]'
complete -c mlprov -n "__fish_mlprov_using_subcommand push" -l password-stdin -d 'Read the registry password from stdin (with --username)'
complete -c mlprov -n "__fish_mlprov_using_subcommand push" -s q -l quiet -d 'Print less: errors only'
complete -c mlprov -n "__fish_mlprov_using_subcommand push" -s v -l verbose -d 'Print more detail (repeat for even more)'
complete -c mlprov -n "__fish_mlprov_using_subcommand push" -l offline -d 'Never touch the network: resolve from local caches only'
complete -c mlprov -n "__fish_mlprov_using_subcommand push" -s h -l help -d 'Print help'
complete -c mlprov -n "__fish_mlprov_using_subcommand push" -s V -l version -d 'Print version'
complete -c mlprov -n "__fish_mlprov_using_subcommand pull" -s o -l output -d 'Directory to place the files in; must be absent or empty (default: the repository\'s last path part)' -r -F
complete -c mlprov -n "__fish_mlprov_using_subcommand pull" -l key -d 'A trusted public key (PEM). Repeatable' -r -F
complete -c mlprov -n "__fish_mlprov_using_subcommand pull" -l certificate-chain -d 'Trusted certificates (PEM) for certificate-signed bundles. Repeatable' -r -F
complete -c mlprov -n "__fish_mlprov_using_subcommand pull" -l require -d 'A predicate type that must be proven (e.g. https://slsa.dev/provenance/v1). Repeatable' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand pull" -l certificate-identity -d 'Trust keyless signatures by exactly this identity: the certificate\'s email or URI (for GitHub Actions, https://github.com/OWNER/REPO/.github/workflows/FILE@REF)' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand pull" -l certificate-identity-regexp -d 'Trust keyless signatures whose identity matches this regular expression in full. A loose pattern trusts anyone who can get a certificate: prefer --certificate-identity' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand pull" -l certificate-oidc-issuer -d 'The OIDC issuer of the trusted identity, matched exactly (e.g. https://token.actions.githubusercontent.com)' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand pull" -l trusted-root -d 'Sigstore trusted root (trusted_root.json) with the Fulcio CAs, Rekor logs and CT logs to trust: for private deployments and air-gapped machines (default: the last --refresh-trusted-root, else the public-good root built into mlprov)' -r -F
complete -c mlprov -n "__fish_mlprov_using_subcommand pull" -l username -d 'Registry user name; the password is read from stdin (--password-stdin)' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand pull" -l timeout -d 'Seconds without progress before a registry request is retried [default: 60] [env: MLPROV_REGISTRY_TIMEOUT]' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand pull" -l policy -d 'A policy: a .toml file (`[policy]` or policy keys; replaces mlprov.toml\'s [policy]) or a .rego file (deny rules, evaluated per node). Repeatable: one .toml, any number of .rego' -r -F
complete -c mlprov -n "__fish_mlprov_using_subcommand pull" -l policy-query -d 'The Rego rule whose set of messages denies a node' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand pull" -l policy-scope -d 'Where Rego rules run: every node of the graph, or the verified artifact only' -r -f -a "graph\t'Every node of the provenance graph'
root\t'The verified artifact only'"
complete -c mlprov -n "__fish_mlprov_using_subcommand pull" -l max-depth -d 'How deep to walk resolvedDependencies; a deeper graph fails verification' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand pull" -l format -d 'Output format: human-readable text or a JSON document on stdout (`mlprov graph` also draws `dot` and `mermaid`)' -r -f -a "human\t''
json\t''
dot\t''
mermaid\t''"
complete -c mlprov -n "__fish_mlprov_using_subcommand pull" -s C -d 'Run as if mlprov was started in DIR' -r -F
complete -c mlprov -n "__fish_mlprov_using_subcommand pull" -l color -d 'When to use colors on the terminal' -r -f -a "auto\t''
always\t''
never\t''"
complete -c mlprov -n "__fish_mlprov_using_subcommand pull" -l no-verify -d 'Skip signature and policy verification (the downloaded bytes are still checked against their digests)'
complete -c mlprov -n "__fish_mlprov_using_subcommand pull" -l require-tlog -d 'Key-signed bundles must carry a transparency log entry (with a signed entry timestamp) that verifies against the trusted root\'s Rekor logs, as cosign --key requires. Keyless bundles always must'
complete -c mlprov -n "__fish_mlprov_using_subcommand pull" -l refresh-trusted-root -d 'Fetch the current public-good trusted root over TUF first (needs the network)'
complete -c mlprov -n "__fish_mlprov_using_subcommand pull" -l plain-http -d 'Talk plain HTTP to the registry (a local registry) [env: MLPROV_REGISTRY_PLAIN_HTTP=1]'
complete -c mlprov -n "__fish_mlprov_using_subcommand pull" -l insecure -d 'Accept any TLS certificate from the registry [env: MLPROV_REGISTRY_INSECURE=1]'
complete -c mlprov -n "__fish_mlprov_using_subcommand pull" -l password-stdin -d 'Read the registry password from stdin (with --username)'
complete -c mlprov -n "__fish_mlprov_using_subcommand pull" -s q -l quiet -d 'Print less: errors only'
complete -c mlprov -n "__fish_mlprov_using_subcommand pull" -s v -l verbose -d 'Print more detail (repeat for even more)'
complete -c mlprov -n "__fish_mlprov_using_subcommand pull" -l offline -d 'Never touch the network: resolve from local caches only'
complete -c mlprov -n "__fish_mlprov_using_subcommand pull" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mlprov -n "__fish_mlprov_using_subcommand pull" -s V -l version -d 'Print version'
complete -c mlprov -n "__fish_mlprov_using_subcommand promote" -l key -d 'A trusted public key (PEM). Repeatable' -r -F
complete -c mlprov -n "__fish_mlprov_using_subcommand promote" -l certificate-chain -d 'Trusted certificates (PEM) for certificate-signed bundles. Repeatable' -r -F
complete -c mlprov -n "__fish_mlprov_using_subcommand promote" -l require -d 'A predicate type that must be proven (e.g. https://slsa.dev/provenance/v1). Repeatable' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand promote" -l certificate-identity -d 'Trust keyless signatures by exactly this identity: the certificate\'s email or URI (for GitHub Actions, https://github.com/OWNER/REPO/.github/workflows/FILE@REF)' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand promote" -l certificate-identity-regexp -d 'Trust keyless signatures whose identity matches this regular expression in full. A loose pattern trusts anyone who can get a certificate: prefer --certificate-identity' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand promote" -l certificate-oidc-issuer -d 'The OIDC issuer of the trusted identity, matched exactly (e.g. https://token.actions.githubusercontent.com)' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand promote" -l trusted-root -d 'Sigstore trusted root (trusted_root.json) with the Fulcio CAs, Rekor logs and CT logs to trust: for private deployments and air-gapped machines (default: the last --refresh-trusted-root, else the public-good root built into mlprov)' -r -F
complete -c mlprov -n "__fish_mlprov_using_subcommand promote" -l username -d 'Registry user name; the password is read from stdin (--password-stdin)' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand promote" -l timeout -d 'Seconds without progress before a registry request is retried [default: 60] [env: MLPROV_REGISTRY_TIMEOUT]' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand promote" -l policy -d 'A policy: a .toml file (`[policy]` or policy keys; replaces mlprov.toml\'s [policy]) or a .rego file (deny rules, evaluated per node). Repeatable: one .toml, any number of .rego' -r -F
complete -c mlprov -n "__fish_mlprov_using_subcommand promote" -l policy-query -d 'The Rego rule whose set of messages denies a node' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand promote" -l policy-scope -d 'Where Rego rules run: every node of the graph, or the verified artifact only' -r -f -a "graph\t'Every node of the provenance graph'
root\t'The verified artifact only'"
complete -c mlprov -n "__fish_mlprov_using_subcommand promote" -l max-depth -d 'How deep to walk resolvedDependencies; a deeper graph fails verification' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand promote" -l vsa-key -d 'Sign the promotion\'s VSA with this private key' -r -F
complete -c mlprov -n "__fish_mlprov_using_subcommand promote" -l tlog-upload -d 'Log the key-signed VSA in Rekor (default: on when --rekor-url or MLPROV_REKOR_URL is given)' -r -f -a "true\t''
false\t''"
complete -c mlprov -n "__fish_mlprov_using_subcommand promote" -l rekor-url -d 'Rekor to log the signed VSA in (default: https://rekor.sigstore.dev)' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand promote" -l identity-token -d 'The OIDC identity token (a JWT with audience `sigstore`) to sign the VSA keyless with' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand promote" -l fulcio-url -d 'Fulcio (the certificate authority) to use' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand promote" -l oidc-issuer -d 'OIDC issuer for the browser sign-in' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand promote" -l oidc-client-id -d 'OIDC client ID for the browser sign-in' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand promote" -l format -d 'Output format: human-readable text or a JSON document on stdout (`mlprov graph` also draws `dot` and `mermaid`)' -r -f -a "human\t''
json\t''
dot\t''
mermaid\t''"
complete -c mlprov -n "__fish_mlprov_using_subcommand promote" -s C -d 'Run as if mlprov was started in DIR' -r -F
complete -c mlprov -n "__fish_mlprov_using_subcommand promote" -l color -d 'When to use colors on the terminal' -r -f -a "auto\t''
always\t''
never\t''"
complete -c mlprov -n "__fish_mlprov_using_subcommand promote" -l dry-run -d 'Verify and print what would be copied, attached and tagged; change nothing in DST'
complete -c mlprov -n "__fish_mlprov_using_subcommand promote" -l require-tlog -d 'Key-signed bundles must carry a transparency log entry (with a signed entry timestamp) that verifies against the trusted root\'s Rekor logs, as cosign --key requires. Keyless bundles always must'
complete -c mlprov -n "__fish_mlprov_using_subcommand promote" -l refresh-trusted-root -d 'Fetch the current public-good trusted root over TUF first (needs the network)'
complete -c mlprov -n "__fish_mlprov_using_subcommand promote" -l plain-http -d 'Talk plain HTTP to the registry (a local registry) [env: MLPROV_REGISTRY_PLAIN_HTTP=1]'
complete -c mlprov -n "__fish_mlprov_using_subcommand promote" -l insecure -d 'Accept any TLS certificate from the registry [env: MLPROV_REGISTRY_INSECURE=1]'
complete -c mlprov -n "__fish_mlprov_using_subcommand promote" -l password-stdin -d 'Read the registry password from stdin (with --username)'
complete -c mlprov -n "__fish_mlprov_using_subcommand promote" -l vsa-keyless -d 'Sign the VSA keyless with Sigstore (the job token in GitHub Actions, --identity-token, or a browser sign-in)'
complete -c mlprov -n "__fish_mlprov_using_subcommand promote" -s q -l quiet -d 'Print less: errors only'
complete -c mlprov -n "__fish_mlprov_using_subcommand promote" -s v -l verbose -d 'Print more detail (repeat for even more)'
complete -c mlprov -n "__fish_mlprov_using_subcommand promote" -l offline -d 'Never touch the network: resolve from local caches only'
complete -c mlprov -n "__fish_mlprov_using_subcommand promote" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mlprov -n "__fish_mlprov_using_subcommand promote" -s V -l version -d 'Print version'
complete -c mlprov -n "__fish_mlprov_using_subcommand keygen" -l output-key-prefix -d 'Write PREFIX.key and PREFIX.pub' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand keygen" -l format -d 'Output format: human-readable text or a JSON document on stdout (`mlprov graph` also draws `dot` and `mermaid`)' -r -f -a "human\t''
json\t''
dot\t''
mermaid\t''"
complete -c mlprov -n "__fish_mlprov_using_subcommand keygen" -s C -d 'Run as if mlprov was started in DIR' -r -F
complete -c mlprov -n "__fish_mlprov_using_subcommand keygen" -l color -d 'When to use colors on the terminal' -r -f -a "auto\t''
always\t''
never\t''"
complete -c mlprov -n "__fish_mlprov_using_subcommand keygen" -l no-password -d 'Write the private key unencrypted (PKCS#8 PEM). Only for throwaway keys'
complete -c mlprov -n "__fish_mlprov_using_subcommand keygen" -l force -d 'Overwrite existing key files'
complete -c mlprov -n "__fish_mlprov_using_subcommand keygen" -s q -l quiet -d 'Print less: errors only'
complete -c mlprov -n "__fish_mlprov_using_subcommand keygen" -s v -l verbose -d 'Print more detail (repeat for even more)'
complete -c mlprov -n "__fish_mlprov_using_subcommand keygen" -l offline -d 'Never touch the network: resolve from local caches only'
complete -c mlprov -n "__fish_mlprov_using_subcommand keygen" -s h -l help -d 'Print help'
complete -c mlprov -n "__fish_mlprov_using_subcommand keygen" -s V -l version -d 'Print version'
complete -c mlprov -n "__fish_mlprov_using_subcommand sign" -l key -d 'Private key (cosign format, or PKCS#8/SEC1 PEM). Password from MLPROV_PASSWORD, COSIGN_PASSWORD or a prompt' -r -F
complete -c mlprov -n "__fish_mlprov_using_subcommand sign" -l identity-token -d 'The OIDC identity token (a JWT with audience `sigstore`) to sign keyless with' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand sign" -l fulcio-url -d 'Fulcio (the certificate authority) to use' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand sign" -l rekor-url -d 'Rekor (the transparency log) to use (default: https://rekor.sigstore.dev). Naming one also logs key-signed bundles there, unless --tlog-upload=false' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand sign" -l tlog-upload -d 'Log key-signed bundles in Rekor and put the inclusion proof, checkpoint and signed entry timestamp in the bundle, as cosign does (default: on when --rekor-url or MLPROV_REKOR_URL is given). Keyless signing always logs' -r -f -a "true\t''
false\t''"
complete -c mlprov -n "__fish_mlprov_using_subcommand sign" -l oidc-issuer -d 'OIDC issuer for the browser sign-in' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand sign" -l oidc-client-id -d 'OIDC client ID for the browser sign-in' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand sign" -l trusted-root -d 'Sigstore trusted root (trusted_root.json) to check the certificate and log entry against; needed with a private --fulcio-url/--rekor-url (default: the last --refresh-trusted-root, else the public-good root built into mlprov)' -r -F
complete -c mlprov -n "__fish_mlprov_using_subcommand sign" -l signature -d 'Where to write the signature (default: PATH/model.sig)' -r -F
complete -c mlprov -n "__fish_mlprov_using_subcommand sign" -l ignore-paths -d 'Leave these paths (relative to the model) out of the signature. Repeatable' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand sign" -l format -d 'Output format: human-readable text or a JSON document on stdout (`mlprov graph` also draws `dot` and `mermaid`)' -r -f -a "human\t''
json\t''
dot\t''
mermaid\t''"
complete -c mlprov -n "__fish_mlprov_using_subcommand sign" -s C -d 'Run as if mlprov was started in DIR' -r -F
complete -c mlprov -n "__fish_mlprov_using_subcommand sign" -l color -d 'When to use colors on the terminal' -r -f -a "auto\t''
always\t''
never\t''"
complete -c mlprov -n "__fish_mlprov_using_subcommand sign" -l keyless -d 'Sign keyless with Sigstore instead of a key: a short-lived Fulcio certificate for your OIDC identity (GitHub Actions\' job token, --identity-token, or a browser sign-in), with the signature logged in Rekor'
complete -c mlprov -n "__fish_mlprov_using_subcommand sign" -l no-ignore-git-paths -d 'Sign .git/, .github/, .gitattributes and .gitignore too'
complete -c mlprov -n "__fish_mlprov_using_subcommand sign" -l allow-symlinks -d 'Follow symlinks that stay inside the model instead of refusing them'
complete -c mlprov -n "__fish_mlprov_using_subcommand sign" -s q -l quiet -d 'Print less: errors only'
complete -c mlprov -n "__fish_mlprov_using_subcommand sign" -s v -l verbose -d 'Print more detail (repeat for even more)'
complete -c mlprov -n "__fish_mlprov_using_subcommand sign" -l offline -d 'Never touch the network: resolve from local caches only'
complete -c mlprov -n "__fish_mlprov_using_subcommand sign" -s h -l help -d 'Print help'
complete -c mlprov -n "__fish_mlprov_using_subcommand sign" -s V -l version -d 'Print version'
complete -c mlprov -n "__fish_mlprov_using_subcommand attest; and not __fish_seen_subcommand_from import help" -l key -d 'Private key to sign with (cosign format, or PKCS#8/SEC1 PEM). Password from MLPROV_PASSWORD, COSIGN_PASSWORD or a prompt' -r -F
complete -c mlprov -n "__fish_mlprov_using_subcommand attest; and not __fish_seen_subcommand_from import help" -l identity-token -d 'The OIDC identity token (a JWT with audience `sigstore`) to sign keyless with' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand attest; and not __fish_seen_subcommand_from import help" -l fulcio-url -d 'Fulcio (the certificate authority) to use' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand attest; and not __fish_seen_subcommand_from import help" -l rekor-url -d 'Rekor (the transparency log) to use (default: https://rekor.sigstore.dev). Naming one also logs key-signed bundles there, unless --tlog-upload=false' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand attest; and not __fish_seen_subcommand_from import help" -l tlog-upload -d 'Log key-signed bundles in Rekor and put the inclusion proof, checkpoint and signed entry timestamp in the bundle, as cosign does (default: on when --rekor-url or MLPROV_REKOR_URL is given). Keyless signing always logs' -r -f -a "true\t''
false\t''"
complete -c mlprov -n "__fish_mlprov_using_subcommand attest; and not __fish_seen_subcommand_from import help" -l oidc-issuer -d 'OIDC issuer for the browser sign-in' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand attest; and not __fish_seen_subcommand_from import help" -l oidc-client-id -d 'OIDC client ID for the browser sign-in' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand attest; and not __fish_seen_subcommand_from import help" -l trusted-root -d 'Sigstore trusted root (trusted_root.json) to check the certificate and log entry against; needed with a private --fulcio-url/--rekor-url (default: the last --refresh-trusted-root, else the public-good root built into mlprov)' -r -F
complete -c mlprov -n "__fish_mlprov_using_subcommand attest; and not __fish_seen_subcommand_from import help" -l type -d 'Attest this predicate type (a URI) about the built artifact; needs --predicate' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand attest; and not __fish_seen_subcommand_from import help" -l predicate -d 'The predicate document (JSON) for --type' -r -F
complete -c mlprov -n "__fish_mlprov_using_subcommand attest; and not __fish_seen_subcommand_from import help" -l format -d 'Output format: human-readable text or a JSON document on stdout (`mlprov graph` also draws `dot` and `mermaid`)' -r -f -a "human\t''
json\t''
dot\t''
mermaid\t''"
complete -c mlprov -n "__fish_mlprov_using_subcommand attest; and not __fish_seen_subcommand_from import help" -s C -d 'Run as if mlprov was started in DIR' -r -F
complete -c mlprov -n "__fish_mlprov_using_subcommand attest; and not __fish_seen_subcommand_from import help" -l color -d 'When to use colors on the terminal' -r -f -a "auto\t''
always\t''
never\t''"
complete -c mlprov -n "__fish_mlprov_using_subcommand attest; and not __fish_seen_subcommand_from import help" -l keyless -d 'Sign keyless with Sigstore instead of a key: a short-lived Fulcio certificate for your OIDC identity (GitHub Actions\' job token, --identity-token, or a browser sign-in), with the signature logged in Rekor'
complete -c mlprov -n "__fish_mlprov_using_subcommand attest; and not __fish_seen_subcommand_from import help" -s q -l quiet -d 'Print less: errors only'
complete -c mlprov -n "__fish_mlprov_using_subcommand attest; and not __fish_seen_subcommand_from import help" -s v -l verbose -d 'Print more detail (repeat for even more)'
complete -c mlprov -n "__fish_mlprov_using_subcommand attest; and not __fish_seen_subcommand_from import help" -l offline -d 'Never touch the network: resolve from local caches only'
complete -c mlprov -n "__fish_mlprov_using_subcommand attest; and not __fish_seen_subcommand_from import help" -s h -l help -d 'Print help'
complete -c mlprov -n "__fish_mlprov_using_subcommand attest; and not __fish_seen_subcommand_from import help" -s V -l version -d 'Print version'
complete -c mlprov -n "__fish_mlprov_using_subcommand attest; and not __fish_seen_subcommand_from import help" -f -a "import" -d 'Attest where a third-party input in mlprov.lock came from (import provenance)'
complete -c mlprov -n "__fish_mlprov_using_subcommand attest; and not __fish_seen_subcommand_from import help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mlprov -n "__fish_mlprov_using_subcommand attest; and __fish_seen_subcommand_from import" -l key -d 'Private key to sign with' -r -F
complete -c mlprov -n "__fish_mlprov_using_subcommand attest; and __fish_seen_subcommand_from import" -l identity-token -d 'The OIDC identity token (a JWT with audience `sigstore`) to sign keyless with' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand attest; and __fish_seen_subcommand_from import" -l fulcio-url -d 'Fulcio (the certificate authority) to use' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand attest; and __fish_seen_subcommand_from import" -l rekor-url -d 'Rekor (the transparency log) to use (default: https://rekor.sigstore.dev). Naming one also logs key-signed bundles there, unless --tlog-upload=false' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand attest; and __fish_seen_subcommand_from import" -l tlog-upload -d 'Log key-signed bundles in Rekor and put the inclusion proof, checkpoint and signed entry timestamp in the bundle, as cosign does (default: on when --rekor-url or MLPROV_REKOR_URL is given). Keyless signing always logs' -r -f -a "true\t''
false\t''"
complete -c mlprov -n "__fish_mlprov_using_subcommand attest; and __fish_seen_subcommand_from import" -l oidc-issuer -d 'OIDC issuer for the browser sign-in' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand attest; and __fish_seen_subcommand_from import" -l oidc-client-id -d 'OIDC client ID for the browser sign-in' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand attest; and __fish_seen_subcommand_from import" -l trusted-root -d 'Sigstore trusted root (trusted_root.json) to check the certificate and log entry against; needed with a private --fulcio-url/--rekor-url (default: the last --refresh-trusted-root, else the public-good root built into mlprov)' -r -F
complete -c mlprov -n "__fish_mlprov_using_subcommand attest; and __fish_seen_subcommand_from import" -l format -d 'Output format: human-readable text or a JSON document on stdout (`mlprov graph` also draws `dot` and `mermaid`)' -r -f -a "human\t''
json\t''
dot\t''
mermaid\t''"
complete -c mlprov -n "__fish_mlprov_using_subcommand attest; and __fish_seen_subcommand_from import" -s C -d 'Run as if mlprov was started in DIR' -r -F
complete -c mlprov -n "__fish_mlprov_using_subcommand attest; and __fish_seen_subcommand_from import" -l color -d 'When to use colors on the terminal' -r -f -a "auto\t''
always\t''
never\t''"
complete -c mlprov -n "__fish_mlprov_using_subcommand attest; and __fish_seen_subcommand_from import" -l keyless -d 'Sign keyless with Sigstore instead of a key: a short-lived Fulcio certificate for your OIDC identity (GitHub Actions\' job token, --identity-token, or a browser sign-in), with the signature logged in Rekor'
complete -c mlprov -n "__fish_mlprov_using_subcommand attest; and __fish_seen_subcommand_from import" -s q -l quiet -d 'Print less: errors only'
complete -c mlprov -n "__fish_mlprov_using_subcommand attest; and __fish_seen_subcommand_from import" -s v -l verbose -d 'Print more detail (repeat for even more)'
complete -c mlprov -n "__fish_mlprov_using_subcommand attest; and __fish_seen_subcommand_from import" -l offline -d 'Never touch the network: resolve from local caches only'
complete -c mlprov -n "__fish_mlprov_using_subcommand attest; and __fish_seen_subcommand_from import" -s h -l help -d 'Print help'
complete -c mlprov -n "__fish_mlprov_using_subcommand attest; and __fish_seen_subcommand_from import" -s V -l version -d 'Print version'
complete -c mlprov -n "__fish_mlprov_using_subcommand attest; and __fish_seen_subcommand_from help" -f -a "import" -d 'Attest where a third-party input in mlprov.lock came from (import provenance)'
complete -c mlprov -n "__fish_mlprov_using_subcommand attest; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mlprov -n "__fish_mlprov_using_subcommand verify" -l key -d 'A trusted public key (PEM). Repeatable' -r -F
complete -c mlprov -n "__fish_mlprov_using_subcommand verify" -l certificate-chain -d 'Trusted certificates (PEM) for certificate-signed bundles. Repeatable' -r -F
complete -c mlprov -n "__fish_mlprov_using_subcommand verify" -l require -d 'A predicate type that must be proven (e.g. https://slsa.dev/provenance/v1). Repeatable' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand verify" -l certificate-identity -d 'Trust keyless signatures by exactly this identity: the certificate\'s email or URI (for GitHub Actions, https://github.com/OWNER/REPO/.github/workflows/FILE@REF)' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand verify" -l certificate-identity-regexp -d 'Trust keyless signatures whose identity matches this regular expression in full. A loose pattern trusts anyone who can get a certificate: prefer --certificate-identity' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand verify" -l certificate-oidc-issuer -d 'The OIDC issuer of the trusted identity, matched exactly (e.g. https://token.actions.githubusercontent.com)' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand verify" -l trusted-root -d 'Sigstore trusted root (trusted_root.json) with the Fulcio CAs, Rekor logs and CT logs to trust: for private deployments and air-gapped machines (default: the last --refresh-trusted-root, else the public-good root built into mlprov)' -r -F
complete -c mlprov -n "__fish_mlprov_using_subcommand verify" -l signature -d 'The model\'s signature (default: TARGET/model.sig)' -r -F
complete -c mlprov -n "__fish_mlprov_using_subcommand verify" -l bundle -d 'Another bundle that must verify and be about the model. Repeatable' -r -F
complete -c mlprov -n "__fish_mlprov_using_subcommand verify" -l ignore-paths -d 'Leave these paths (relative to the model) out of the file check. Repeatable' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand verify" -l username -d 'Registry user name; the password is read from stdin (--password-stdin)' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand verify" -l timeout -d 'Seconds without progress before a registry request is retried [default: 60] [env: MLPROV_REGISTRY_TIMEOUT]' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand verify" -l policy -d 'A policy: a .toml file (`[policy]` or policy keys; replaces mlprov.toml\'s [policy]) or a .rego file (deny rules, evaluated per node). Repeatable: one .toml, any number of .rego' -r -F
complete -c mlprov -n "__fish_mlprov_using_subcommand verify" -l policy-query -d 'The Rego rule whose set of messages denies a node' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand verify" -l policy-scope -d 'Where Rego rules run: every node of the graph, or the verified artifact only' -r -f -a "graph\t'Every node of the provenance graph'
root\t'The verified artifact only'"
complete -c mlprov -n "__fish_mlprov_using_subcommand verify" -l max-depth -d 'How deep to walk resolvedDependencies; a deeper graph fails verification' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand verify" -l emit-vsa -d 'Write a SLSA Verification Summary (VSA) of the result to FILE' -r -F
complete -c mlprov -n "__fish_mlprov_using_subcommand verify" -l vsa-key -d 'Sign the VSA with this private key (a Sigstore bundle); else a bare statement' -r -F
complete -c mlprov -n "__fish_mlprov_using_subcommand verify" -l tlog-upload -d 'Log the key-signed VSA in Rekor, as `sign --tlog-upload` does (default: on when --rekor-url or MLPROV_REKOR_URL is given)' -r -f -a "true\t''
false\t''"
complete -c mlprov -n "__fish_mlprov_using_subcommand verify" -l rekor-url -d 'Rekor to log the signed VSA in (default: https://rekor.sigstore.dev)' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand verify" -l identity-token -d 'The OIDC identity token (a JWT with audience `sigstore`) to sign the VSA keyless with' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand verify" -l fulcio-url -d 'Fulcio (the certificate authority) to use' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand verify" -l oidc-issuer -d 'OIDC issuer for the browser sign-in' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand verify" -l oidc-client-id -d 'OIDC client ID for the browser sign-in' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand verify" -l format -d 'Output format: human-readable text or a JSON document on stdout (`mlprov graph` also draws `dot` and `mermaid`)' -r -f -a "human\t''
json\t''
dot\t''
mermaid\t''"
complete -c mlprov -n "__fish_mlprov_using_subcommand verify" -s C -d 'Run as if mlprov was started in DIR' -r -F
complete -c mlprov -n "__fish_mlprov_using_subcommand verify" -l color -d 'When to use colors on the terminal' -r -f -a "auto\t''
always\t''
never\t''"
complete -c mlprov -n "__fish_mlprov_using_subcommand verify" -l require-tlog -d 'Key-signed bundles must carry a transparency log entry (with a signed entry timestamp) that verifies against the trusted root\'s Rekor logs, as cosign --key requires. Keyless bundles always must'
complete -c mlprov -n "__fish_mlprov_using_subcommand verify" -l refresh-trusted-root -d 'Fetch the current public-good trusted root over TUF first (needs the network)'
complete -c mlprov -n "__fish_mlprov_using_subcommand verify" -l plain-http -d 'Talk plain HTTP to the registry (a local registry) [env: MLPROV_REGISTRY_PLAIN_HTTP=1]'
complete -c mlprov -n "__fish_mlprov_using_subcommand verify" -l insecure -d 'Accept any TLS certificate from the registry [env: MLPROV_REGISTRY_INSECURE=1]'
complete -c mlprov -n "__fish_mlprov_using_subcommand verify" -l password-stdin -d 'Read the registry password from stdin (with --username)'
complete -c mlprov -n "__fish_mlprov_using_subcommand verify" -l vsa-keyless -d 'Sign the VSA keyless with Sigstore instead of a key: a Fulcio certificate for your OIDC identity (the job token in GitHub Actions, --identity-token, or a browser sign-in)'
complete -c mlprov -n "__fish_mlprov_using_subcommand verify" -l attach -d 'Push the signed VSA to the registry as a referrer of the verified model\'s manifest (TARGET must be an OCI reference, and the verification must pass), so an admission gate can admit the model by checking one VSA from the verifier\'s identity'
complete -c mlprov -n "__fish_mlprov_using_subcommand verify" -s q -l quiet -d 'Print less: errors only'
complete -c mlprov -n "__fish_mlprov_using_subcommand verify" -s v -l verbose -d 'Print more detail (repeat for even more)'
complete -c mlprov -n "__fish_mlprov_using_subcommand verify" -l offline -d 'Never touch the network: resolve from local caches only'
complete -c mlprov -n "__fish_mlprov_using_subcommand verify" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mlprov -n "__fish_mlprov_using_subcommand verify" -s V -l version -d 'Print version'
complete -c mlprov -n "__fish_mlprov_using_subcommand graph" -l key -d 'A trusted public key (PEM). Repeatable' -r -F
complete -c mlprov -n "__fish_mlprov_using_subcommand graph" -l certificate-chain -d 'Trusted certificates (PEM) for certificate-signed bundles. Repeatable' -r -F
complete -c mlprov -n "__fish_mlprov_using_subcommand graph" -l require -d 'A predicate type that must be proven (e.g. https://slsa.dev/provenance/v1). Repeatable' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand graph" -l certificate-identity -d 'Trust keyless signatures by exactly this identity: the certificate\'s email or URI (for GitHub Actions, https://github.com/OWNER/REPO/.github/workflows/FILE@REF)' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand graph" -l certificate-identity-regexp -d 'Trust keyless signatures whose identity matches this regular expression in full. A loose pattern trusts anyone who can get a certificate: prefer --certificate-identity' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand graph" -l certificate-oidc-issuer -d 'The OIDC issuer of the trusted identity, matched exactly (e.g. https://token.actions.githubusercontent.com)' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand graph" -l trusted-root -d 'Sigstore trusted root (trusted_root.json) with the Fulcio CAs, Rekor logs and CT logs to trust: for private deployments and air-gapped machines (default: the last --refresh-trusted-root, else the public-good root built into mlprov)' -r -F
complete -c mlprov -n "__fish_mlprov_using_subcommand graph" -l signature -d 'The model\'s signature (default: TARGET/model.sig)' -r -F
complete -c mlprov -n "__fish_mlprov_using_subcommand graph" -l bundle -d 'Another bundle that must verify and be about the model. Repeatable' -r -F
complete -c mlprov -n "__fish_mlprov_using_subcommand graph" -l ignore-paths -d 'Leave these paths (relative to the model) out of the file check. Repeatable' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand graph" -l username -d 'Registry user name; the password is read from stdin (--password-stdin)' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand graph" -l timeout -d 'Seconds without progress before a registry request is retried [default: 60] [env: MLPROV_REGISTRY_TIMEOUT]' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand graph" -l policy -d 'A policy: a .toml file (`[policy]` or policy keys; replaces mlprov.toml\'s [policy]) or a .rego file (deny rules, evaluated per node). Repeatable: one .toml, any number of .rego' -r -F
complete -c mlprov -n "__fish_mlprov_using_subcommand graph" -l policy-query -d 'The Rego rule whose set of messages denies a node' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand graph" -l policy-scope -d 'Where Rego rules run: every node of the graph, or the verified artifact only' -r -f -a "graph\t'Every node of the provenance graph'
root\t'The verified artifact only'"
complete -c mlprov -n "__fish_mlprov_using_subcommand graph" -l max-depth -d 'How deep to walk resolvedDependencies; a deeper graph fails verification' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand graph" -l emit-vsa -d 'Write a SLSA Verification Summary (VSA) of the result to FILE' -r -F
complete -c mlprov -n "__fish_mlprov_using_subcommand graph" -l vsa-key -d 'Sign the VSA with this private key (a Sigstore bundle); else a bare statement' -r -F
complete -c mlprov -n "__fish_mlprov_using_subcommand graph" -l tlog-upload -d 'Log the key-signed VSA in Rekor, as `sign --tlog-upload` does (default: on when --rekor-url or MLPROV_REKOR_URL is given)' -r -f -a "true\t''
false\t''"
complete -c mlprov -n "__fish_mlprov_using_subcommand graph" -l rekor-url -d 'Rekor to log the signed VSA in (default: https://rekor.sigstore.dev)' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand graph" -l identity-token -d 'The OIDC identity token (a JWT with audience `sigstore`) to sign the VSA keyless with' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand graph" -l fulcio-url -d 'Fulcio (the certificate authority) to use' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand graph" -l oidc-issuer -d 'OIDC issuer for the browser sign-in' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand graph" -l oidc-client-id -d 'OIDC client ID for the browser sign-in' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand graph" -l format -d 'Output format: human-readable text or a JSON document on stdout (`mlprov graph` also draws `dot` and `mermaid`)' -r -f -a "human\t''
json\t''
dot\t''
mermaid\t''"
complete -c mlprov -n "__fish_mlprov_using_subcommand graph" -s C -d 'Run as if mlprov was started in DIR' -r -F
complete -c mlprov -n "__fish_mlprov_using_subcommand graph" -l color -d 'When to use colors on the terminal' -r -f -a "auto\t''
always\t''
never\t''"
complete -c mlprov -n "__fish_mlprov_using_subcommand graph" -l require-tlog -d 'Key-signed bundles must carry a transparency log entry (with a signed entry timestamp) that verifies against the trusted root\'s Rekor logs, as cosign --key requires. Keyless bundles always must'
complete -c mlprov -n "__fish_mlprov_using_subcommand graph" -l refresh-trusted-root -d 'Fetch the current public-good trusted root over TUF first (needs the network)'
complete -c mlprov -n "__fish_mlprov_using_subcommand graph" -l plain-http -d 'Talk plain HTTP to the registry (a local registry) [env: MLPROV_REGISTRY_PLAIN_HTTP=1]'
complete -c mlprov -n "__fish_mlprov_using_subcommand graph" -l insecure -d 'Accept any TLS certificate from the registry [env: MLPROV_REGISTRY_INSECURE=1]'
complete -c mlprov -n "__fish_mlprov_using_subcommand graph" -l password-stdin -d 'Read the registry password from stdin (with --username)'
complete -c mlprov -n "__fish_mlprov_using_subcommand graph" -l vsa-keyless -d 'Sign the VSA keyless with Sigstore instead of a key: a Fulcio certificate for your OIDC identity (the job token in GitHub Actions, --identity-token, or a browser sign-in)'
complete -c mlprov -n "__fish_mlprov_using_subcommand graph" -l attach -d 'Push the signed VSA to the registry as a referrer of the verified model\'s manifest (TARGET must be an OCI reference, and the verification must pass), so an admission gate can admit the model by checking one VSA from the verifier\'s identity'
complete -c mlprov -n "__fish_mlprov_using_subcommand graph" -s q -l quiet -d 'Print less: errors only'
complete -c mlprov -n "__fish_mlprov_using_subcommand graph" -s v -l verbose -d 'Print more detail (repeat for even more)'
complete -c mlprov -n "__fish_mlprov_using_subcommand graph" -l offline -d 'Never touch the network: resolve from local caches only'
complete -c mlprov -n "__fish_mlprov_using_subcommand graph" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mlprov -n "__fish_mlprov_using_subcommand graph" -s V -l version -d 'Print version'
complete -c mlprov -n "__fish_mlprov_using_subcommand serve" -l tls-cert -d 'The server certificate (PEM; the certificate first, then intermediates) [env: MLPROV_SERVE_TLS_CERT]' -r -F
complete -c mlprov -n "__fish_mlprov_using_subcommand serve" -l tls-key -d 'The certificate\'s private key (PEM, unencrypted) [env: MLPROV_SERVE_TLS_KEY]' -r -F
complete -c mlprov -n "__fish_mlprov_using_subcommand serve" -l listen -d 'Address to listen on [default: 0.0.0.0:8443] [env: MLPROV_SERVE_LISTEN]' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand serve" -l deadline-ms -d 'Milliseconds a review may take; a verification still running then is a denial (keep it below the webhook\'s timeoutSeconds) [default: 8000] [env: MLPROV_SERVE_DEADLINE_MS]' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand serve" -l cache-ttl -d 'Seconds a model\'s verdict is kept, by digest [default: 300] [env: MLPROV_SERVE_CACHE_TTL]' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand serve" -l max-request-bytes -d 'Largest review body read; a larger one is answered 413 [default: 7340032 (7 MiB)] [env: MLPROV_SERVE_MAX_REQUEST_BYTES]' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand serve" -l allow-registry -d 'A registry models may come from (host[:port] as in references); a model from another is denied. Repeatable (default: any registry)' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand serve" -l vsa-key -d 'A verifier\'s public key (PEM): a VSA it signed about the model\'s manifest digest, with verificationResult PASSED, admits the model without verifying it again. Repeatable' -r -F
complete -c mlprov -n "__fish_mlprov_using_subcommand serve" -l key -d 'A trusted public key (PEM). Repeatable' -r -F
complete -c mlprov -n "__fish_mlprov_using_subcommand serve" -l certificate-chain -d 'Trusted certificates (PEM) for certificate-signed bundles. Repeatable' -r -F
complete -c mlprov -n "__fish_mlprov_using_subcommand serve" -l require -d 'A predicate type that must be proven (e.g. https://slsa.dev/provenance/v1). Repeatable' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand serve" -l certificate-identity -d 'Trust keyless signatures by exactly this identity: the certificate\'s email or URI (for GitHub Actions, https://github.com/OWNER/REPO/.github/workflows/FILE@REF)' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand serve" -l certificate-identity-regexp -d 'Trust keyless signatures whose identity matches this regular expression in full. A loose pattern trusts anyone who can get a certificate: prefer --certificate-identity' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand serve" -l certificate-oidc-issuer -d 'The OIDC issuer of the trusted identity, matched exactly (e.g. https://token.actions.githubusercontent.com)' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand serve" -l trusted-root -d 'Sigstore trusted root (trusted_root.json) with the Fulcio CAs, Rekor logs and CT logs to trust: for private deployments and air-gapped machines (default: the last --refresh-trusted-root, else the public-good root built into mlprov)' -r -F
complete -c mlprov -n "__fish_mlprov_using_subcommand serve" -l username -d 'Registry user name; the password is read from stdin (--password-stdin)' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand serve" -l timeout -d 'Seconds without progress before a registry request is retried [default: 60] [env: MLPROV_REGISTRY_TIMEOUT]' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand serve" -l policy -d 'A policy: a .toml file (`[policy]` or policy keys; replaces mlprov.toml\'s [policy]) or a .rego file (deny rules, evaluated per node). Repeatable: one .toml, any number of .rego' -r -F
complete -c mlprov -n "__fish_mlprov_using_subcommand serve" -l policy-query -d 'The Rego rule whose set of messages denies a node' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand serve" -l policy-scope -d 'Where Rego rules run: every node of the graph, or the verified artifact only' -r -f -a "graph\t'Every node of the provenance graph'
root\t'The verified artifact only'"
complete -c mlprov -n "__fish_mlprov_using_subcommand serve" -l max-depth -d 'How deep to walk resolvedDependencies; a deeper graph fails verification' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand serve" -l format -d 'Output format: human-readable text or a JSON document on stdout (`mlprov graph` also draws `dot` and `mermaid`)' -r -f -a "human\t''
json\t''
dot\t''
mermaid\t''"
complete -c mlprov -n "__fish_mlprov_using_subcommand serve" -s C -d 'Run as if mlprov was started in DIR' -r -F
complete -c mlprov -n "__fish_mlprov_using_subcommand serve" -l color -d 'When to use colors on the terminal' -r -f -a "auto\t''
always\t''
never\t''"
complete -c mlprov -n "__fish_mlprov_using_subcommand serve" -l require-tlog -d 'Key-signed bundles must carry a transparency log entry (with a signed entry timestamp) that verifies against the trusted root\'s Rekor logs, as cosign --key requires. Keyless bundles always must'
complete -c mlprov -n "__fish_mlprov_using_subcommand serve" -l refresh-trusted-root -d 'Fetch the current public-good trusted root over TUF first (needs the network)'
complete -c mlprov -n "__fish_mlprov_using_subcommand serve" -l plain-http -d 'Talk plain HTTP to the registry (a local registry) [env: MLPROV_REGISTRY_PLAIN_HTTP=1]'
complete -c mlprov -n "__fish_mlprov_using_subcommand serve" -l insecure -d 'Accept any TLS certificate from the registry [env: MLPROV_REGISTRY_INSECURE=1]'
complete -c mlprov -n "__fish_mlprov_using_subcommand serve" -l password-stdin -d 'Read the registry password from stdin (with --username)'
complete -c mlprov -n "__fish_mlprov_using_subcommand serve" -s q -l quiet -d 'Print less: errors only'
complete -c mlprov -n "__fish_mlprov_using_subcommand serve" -s v -l verbose -d 'Print more detail (repeat for even more)'
complete -c mlprov -n "__fish_mlprov_using_subcommand serve" -l offline -d 'Never touch the network: resolve from local caches only'
complete -c mlprov -n "__fish_mlprov_using_subcommand serve" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mlprov -n "__fish_mlprov_using_subcommand serve" -s V -l version -d 'Print version'
complete -c mlprov -n "__fish_mlprov_using_subcommand why" -l key -d 'Count only provenance signed by these keys (PEM). Without keys, every provenance statement read counts, signed by anyone' -r -F
complete -c mlprov -n "__fish_mlprov_using_subcommand why" -l registry -d 'Read the models of this registry repository (every tag; or one, as REPO:TAG) and their bundle referrers instead of the local store. Repeatable' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand why" -l username -d 'Registry user name; the password is read from stdin (--password-stdin)' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand why" -l timeout -d 'Seconds without progress before a registry request is retried [default: 60] [env: MLPROV_REGISTRY_TIMEOUT]' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand why" -l format -d 'Output format: human-readable text or a JSON document on stdout (`mlprov graph` also draws `dot` and `mermaid`)' -r -f -a "human\t''
json\t''
dot\t''
mermaid\t''"
complete -c mlprov -n "__fish_mlprov_using_subcommand why" -s C -d 'Run as if mlprov was started in DIR' -r -F
complete -c mlprov -n "__fish_mlprov_using_subcommand why" -l color -d 'When to use colors on the terminal' -r -f -a "auto\t''
always\t''
never\t''"
complete -c mlprov -n "__fish_mlprov_using_subcommand why" -l plain-http -d 'Talk plain HTTP to the registry (a local registry) [env: MLPROV_REGISTRY_PLAIN_HTTP=1]'
complete -c mlprov -n "__fish_mlprov_using_subcommand why" -l insecure -d 'Accept any TLS certificate from the registry [env: MLPROV_REGISTRY_INSECURE=1]'
complete -c mlprov -n "__fish_mlprov_using_subcommand why" -l password-stdin -d 'Read the registry password from stdin (with --username)'
complete -c mlprov -n "__fish_mlprov_using_subcommand why" -s q -l quiet -d 'Print less: errors only'
complete -c mlprov -n "__fish_mlprov_using_subcommand why" -s v -l verbose -d 'Print more detail (repeat for even more)'
complete -c mlprov -n "__fish_mlprov_using_subcommand why" -l offline -d 'Never touch the network: resolve from local caches only'
complete -c mlprov -n "__fish_mlprov_using_subcommand why" -s h -l help -d 'Print help'
complete -c mlprov -n "__fish_mlprov_using_subcommand why" -s V -l version -d 'Print version'
complete -c mlprov -n "__fish_mlprov_using_subcommand revoke" -l reason -d 'Why (recorded with each digest)' -r
complete -c mlprov -n "__fish_mlprov_using_subcommand revoke" -l key -d 'Private key to sign the list with' -r -F
complete -c mlprov -n "__fish_mlprov_using_subcommand revoke" -s o -l output -d 'The revocation list to write; an existing list signed by the same key is extended' -r -F
complete -c mlprov -n "__fish_mlprov_using_subcommand revoke" -l format -d 'Output format: human-readable text or a JSON document on stdout (`mlprov graph` also draws `dot` and `mermaid`)' -r -f -a "human\t''
json\t''
dot\t''
mermaid\t''"
complete -c mlprov -n "__fish_mlprov_using_subcommand revoke" -s C -d 'Run as if mlprov was started in DIR' -r -F
complete -c mlprov -n "__fish_mlprov_using_subcommand revoke" -l color -d 'When to use colors on the terminal' -r -f -a "auto\t''
always\t''
never\t''"
complete -c mlprov -n "__fish_mlprov_using_subcommand revoke" -s q -l quiet -d 'Print less: errors only'
complete -c mlprov -n "__fish_mlprov_using_subcommand revoke" -s v -l verbose -d 'Print more detail (repeat for even more)'
complete -c mlprov -n "__fish_mlprov_using_subcommand revoke" -l offline -d 'Never touch the network: resolve from local caches only'
complete -c mlprov -n "__fish_mlprov_using_subcommand revoke" -s h -l help -d 'Print help'
complete -c mlprov -n "__fish_mlprov_using_subcommand revoke" -s V -l version -d 'Print version'
complete -c mlprov -n "__fish_mlprov_using_subcommand completions" -l format -d 'Output format: human-readable text or a JSON document on stdout (`mlprov graph` also draws `dot` and `mermaid`)' -r -f -a "human\t''
json\t''
dot\t''
mermaid\t''"
complete -c mlprov -n "__fish_mlprov_using_subcommand completions" -s C -d 'Run as if mlprov was started in DIR' -r -F
complete -c mlprov -n "__fish_mlprov_using_subcommand completions" -l color -d 'When to use colors on the terminal' -r -f -a "auto\t''
always\t''
never\t''"
complete -c mlprov -n "__fish_mlprov_using_subcommand completions" -l install -d 'Write the script where the shell loads it instead of printing it: bash-completion\'s user directory, fish\'s completions directory, or zsh\'s site-functions under ~/.local/share (add that to fpath)'
complete -c mlprov -n "__fish_mlprov_using_subcommand completions" -s q -l quiet -d 'Print less: errors only'
complete -c mlprov -n "__fish_mlprov_using_subcommand completions" -s v -l verbose -d 'Print more detail (repeat for even more)'
complete -c mlprov -n "__fish_mlprov_using_subcommand completions" -l offline -d 'Never touch the network: resolve from local caches only'
complete -c mlprov -n "__fish_mlprov_using_subcommand completions" -s h -l help -d 'Print help'
complete -c mlprov -n "__fish_mlprov_using_subcommand completions" -s V -l version -d 'Print version'
complete -c mlprov -n "__fish_mlprov_using_subcommand man" -l out-dir -d 'Write mlprov.1 and one page per subcommand into this directory' -r -F
complete -c mlprov -n "__fish_mlprov_using_subcommand man" -l format -d 'Output format: human-readable text or a JSON document on stdout (`mlprov graph` also draws `dot` and `mermaid`)' -r -f -a "human\t''
json\t''
dot\t''
mermaid\t''"
complete -c mlprov -n "__fish_mlprov_using_subcommand man" -s C -d 'Run as if mlprov was started in DIR' -r -F
complete -c mlprov -n "__fish_mlprov_using_subcommand man" -l color -d 'When to use colors on the terminal' -r -f -a "auto\t''
always\t''
never\t''"
complete -c mlprov -n "__fish_mlprov_using_subcommand man" -l install -d 'Write the pages into $XDG_DATA_HOME/man/man1 (default ~/.local/share/man/man1), where man finds them for programs in ~/.local/bin'
complete -c mlprov -n "__fish_mlprov_using_subcommand man" -s q -l quiet -d 'Print less: errors only'
complete -c mlprov -n "__fish_mlprov_using_subcommand man" -s v -l verbose -d 'Print more detail (repeat for even more)'
complete -c mlprov -n "__fish_mlprov_using_subcommand man" -l offline -d 'Never touch the network: resolve from local caches only'
complete -c mlprov -n "__fish_mlprov_using_subcommand man" -s h -l help -d 'Print help'
complete -c mlprov -n "__fish_mlprov_using_subcommand man" -s V -l version -d 'Print version'
complete -c mlprov -n "__fish_mlprov_using_subcommand schema" -l format -d 'Output format: human-readable text or a JSON document on stdout (`mlprov graph` also draws `dot` and `mermaid`)' -r -f -a "human\t''
json\t''
dot\t''
mermaid\t''"
complete -c mlprov -n "__fish_mlprov_using_subcommand schema" -s C -d 'Run as if mlprov was started in DIR' -r -F
complete -c mlprov -n "__fish_mlprov_using_subcommand schema" -l color -d 'When to use colors on the terminal' -r -f -a "auto\t''
always\t''
never\t''"
complete -c mlprov -n "__fish_mlprov_using_subcommand schema" -s q -l quiet -d 'Print less: errors only'
complete -c mlprov -n "__fish_mlprov_using_subcommand schema" -s v -l verbose -d 'Print more detail (repeat for even more)'
complete -c mlprov -n "__fish_mlprov_using_subcommand schema" -l offline -d 'Never touch the network: resolve from local caches only'
complete -c mlprov -n "__fish_mlprov_using_subcommand schema" -s h -l help -d 'Print help'
complete -c mlprov -n "__fish_mlprov_using_subcommand schema" -s V -l version -d 'Print version'
complete -c mlprov -n "__fish_mlprov_using_subcommand help; and not __fish_seen_subcommand_from init pin scan build push pull promote keygen sign attest verify graph serve why revoke completions man schema help" -f -a "init" -d 'Write an mlprov.toml for this training repository'
complete -c mlprov -n "__fish_mlprov_using_subcommand help; and not __fish_seen_subcommand_from init pin scan build push pull promote keygen sign attest verify graph serve why revoke completions man schema help" -f -a "pin" -d 'Resolve every input to immutable bytes and write mlprov.lock'
complete -c mlprov -n "__fish_mlprov_using_subcommand help; and not __fish_seen_subcommand_from init pin scan build push pull promote keygen sign attest verify graph serve why revoke completions man schema help" -f -a "scan" -d 'Scan model files for code and for unsafe or malformed formats'
complete -c mlprov -n "__fish_mlprov_using_subcommand help; and not __fish_seen_subcommand_from init pin scan build push pull promote keygen sign attest verify graph serve why revoke completions man schema help" -f -a "build" -d 'Check the inputs, run and record the training, and write provenance and SBOMs'
complete -c mlprov -n "__fish_mlprov_using_subcommand help; and not __fish_seen_subcommand_from init pin scan build push pull promote keygen sign attest verify graph serve why revoke completions man schema help" -f -a "push" -d 'Push the built model to an OCI registry (ModelPack), with its bundles as referrers'
complete -c mlprov -n "__fish_mlprov_using_subcommand help; and not __fish_seen_subcommand_from init pin scan build push pull promote keygen sign attest verify graph serve why revoke completions man schema help" -f -a "pull" -d 'Pull a model from an OCI registry, verify it, then place its files'
complete -c mlprov -n "__fish_mlprov_using_subcommand help; and not __fish_seen_subcommand_from init pin scan build push pull promote keygen sign attest verify graph serve why revoke completions man schema help" -f -a "promote" -d 'Verify a model, copy it with every bundle to another registry, move the tag'
complete -c mlprov -n "__fish_mlprov_using_subcommand help; and not __fish_seen_subcommand_from init pin scan build push pull promote keygen sign attest verify graph serve why revoke completions man schema help" -f -a "keygen" -d 'Make a cosign-compatible key pair: cosign.key (encrypted) and cosign.pub'
complete -c mlprov -n "__fish_mlprov_using_subcommand help; and not __fish_seen_subcommand_from init pin scan build push pull promote keygen sign attest verify graph serve why revoke completions man schema help" -f -a "sign" -d 'Sign a model\'s files as an OpenSSF Model Signing bundle (model.sig)'
complete -c mlprov -n "__fish_mlprov_using_subcommand help; and not __fish_seen_subcommand_from init pin scan build push pull promote keygen sign attest verify graph serve why revoke completions man schema help" -f -a "attest" -d 'Sign the build\'s provenance and SBOM, or any predicate, into Sigstore bundles'
complete -c mlprov -n "__fish_mlprov_using_subcommand help; and not __fish_seen_subcommand_from init pin scan build push pull promote keygen sign attest verify graph serve why revoke completions man schema help" -f -a "verify" -d 'Verify a model: its files, signatures, signers and required attestations'
complete -c mlprov -n "__fish_mlprov_using_subcommand help; and not __fish_seen_subcommand_from init pin scan build push pull promote keygen sign attest verify graph serve why revoke completions man schema help" -f -a "graph" -d 'Draw the verified provenance graph (DOT, Mermaid or JSON)'
complete -c mlprov -n "__fish_mlprov_using_subcommand help; and not __fish_seen_subcommand_from init pin scan build push pull promote keygen sign attest verify graph serve why revoke completions man schema help" -f -a "serve" -d 'Run a Kubernetes admission webhook that admits workloads only when their models verify'
complete -c mlprov -n "__fish_mlprov_using_subcommand help; and not __fish_seen_subcommand_from init pin scan build push pull promote keygen sign attest verify graph serve why revoke completions man schema help" -f -a "why" -d 'List every artifact (in the local store or a registry) that descends from DIGEST or NAME'
complete -c mlprov -n "__fish_mlprov_using_subcommand help; and not __fish_seen_subcommand_from init pin scan build push pull promote keygen sign attest verify graph serve why revoke completions man schema help" -f -a "revoke" -d 'Sign a revocation list (for `revocation-list` in [policy])'
complete -c mlprov -n "__fish_mlprov_using_subcommand help; and not __fish_seen_subcommand_from init pin scan build push pull promote keygen sign attest verify graph serve why revoke completions man schema help" -f -a "completions" -d 'Print shell completions'
complete -c mlprov -n "__fish_mlprov_using_subcommand help; and not __fish_seen_subcommand_from init pin scan build push pull promote keygen sign attest verify graph serve why revoke completions man schema help" -f -a "man" -d 'Print the man page (or write all pages to a directory)'
complete -c mlprov -n "__fish_mlprov_using_subcommand help; and not __fish_seen_subcommand_from init pin scan build push pull promote keygen sign attest verify graph serve why revoke completions man schema help" -f -a "schema" -d 'Print the JSON Schema of mlprov.toml, or of a command\'s `--format json` document'
complete -c mlprov -n "__fish_mlprov_using_subcommand help; and not __fish_seen_subcommand_from init pin scan build push pull promote keygen sign attest verify graph serve why revoke completions man schema help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mlprov -n "__fish_mlprov_using_subcommand help; and __fish_seen_subcommand_from attest" -f -a "import" -d 'Attest where a third-party input in mlprov.lock came from (import provenance)'

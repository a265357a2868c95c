package certificate

import (
	"bytes"
	"encoding/base64"
	"fmt"

	"sigs.k8s.io/yaml"
)

// kubeconfigFile is all of a kubeconfig that is read: tokens, server URLs,
// exec plugins and paths are not even decoded.
type kubeconfigFile struct {
	Clusters []struct {
		Name    string `json:"name"`
		Cluster struct {
			CertificateAuthorityData string `json:"certificate-authority-data"`
		} `json:"cluster"`
	} `json:"clusters"`
	Users []struct {
		Name string `json:"name"`
		User struct {
			ClientCertificateData string `json:"client-certificate-data"`
			ClientKeyData         string `json:"client-key-data"`
		} `json:"user"`
	} `json:"users"`
}

// parseKubeconfig reports whether value is a kubeconfig (YAML or JSON with
// clusters or users, at most maxKubeconfigSize).
func parseKubeconfig(value []byte) (*kubeconfigFile, bool) {
	if len(value) > maxKubeconfigSize || !(bytes.Contains(value, []byte("clusters")) || bytes.Contains(value, []byte("users"))) {
		return nil, false
	}
	var file kubeconfigFile
	if err := yaml.Unmarshal(value, &file); err != nil || (len(file.Clusters) == 0 && len(file.Users) == 0) {
		return nil, false
	}
	return &file, true
}

// readKubeconfig lists the clusters' CAs, then the users' client
// certificates (the usual file order). The first user with a client certificate is the primary chain,
// anchored by the clusters' CAs.
func readKubeconfig(file *kubeconfigFile) storeContents {
	var out storeContents
	for _, cluster := range file.Clusters {
		if cluster.Cluster.CertificateAuthorityData != "" {
			out.addPEM("clusters["+cluster.Name+"]", cluster.Cluster.CertificateAuthorityData, "certificate-authority-data")
		}
	}
	for _, user := range file.Users {
		if user.User.ClientCertificateData == "" {
			continue
		}
		alias := "users[" + user.Name + "]"
		first := len(out.certs)
		out.addPEM(alias, user.User.ClientCertificateData, "client-certificate-data")
		if len(out.certs) == first {
			continue
		}
		if user.User.ClientKeyData != "" {
			out.certs[first].key = kubeconfigKey(&out, alias, user.User.ClientKeyData)
		}
		if len(out.chain) == 0 {
			for p := first; p < len(out.certs); p++ {
				out.chain = append(out.chain, p)
			}
			out.anchorsInValue = true
		}
	}
	return out
}

// addPEM decodes a base64 field of PEM certificates.
func (s *storeContents) addPEM(alias, field, name string) {
	decoded, err := base64.StdEncoding.DecodeString(field)
	if err != nil {
		s.fail(fmt.Sprintf("%s: %s is not base64.", alias, name))
		return
	}
	found := false
	for block := range scanPEM(decoded) {
		if block.problem != "" || block.block.Type != "CERTIFICATE" {
			continue
		}
		found = true
		s.certs = append(s.certs, storeCert{der: block.block.Bytes, alias: alias})
	}
	if !found {
		s.fail(fmt.Sprintf("%s: %s holds no PEM certificate.", alias, name))
	}
}

// kubeconfigKey reads client-key-data's public half; problems are
// reported against the user, never quoting the key.
func kubeconfigKey(s *storeContents, alias, field string) *foundKey {
	decoded, err := base64.StdEncoding.DecodeString(field)
	if err != nil {
		s.fail(alias + ": client-key-data is not base64.")
		return nil
	}
	for block := range scanPEM(decoded) {
		if block.problem != "" || !isPrivateKeyBlock(block.block) {
			continue
		}
		public, algorithm, err := parsePrivateKey(block.block)
		if err != nil {
			s.fail(alias + ": client-key-data: " + sentence(err))
			return nil
		}
		return &foundKey{public: public, algorithm: algorithm}
	}
	s.fail(alias + ": client-key-data holds no PEM private key.")
	return nil
}

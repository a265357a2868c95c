package apiserver

import (
	"fmt"
	"net/http"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apiserver/pkg/endpoints/handlers/responsewriters"
	"k8s.io/apiserver/pkg/endpoints/request"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
	"github.com/certstatus/certstatus/pkg/apis/certstatus/v1alpha1"
)

// readOnly answers every write to a resource that certstatus.dev serves with
// 405 and a message that says why. Without it the generic server's answer
// names no reason; with write interfaces on the storage, discovery would
// advertise write verbs. A request for anything else (a resource, version or
// subresource the group does not serve) goes on to the generic server, which
// answers 404 as kube-apiserver does: a 405 would claim the resource exists.
// It runs after authentication and authorization, like any other handler.
//
// served maps each resource served to what it is computed from ("Secret").
func readOnly(next http.Handler, served map[string]string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		info, ok := request.RequestInfoFrom(req.Context())
		if ok && info.IsResourceRequest && info.APIGroup == certstatus.GroupName &&
			info.APIVersion == v1alpha1.SchemeGroupVersion.Version && info.Subresource == "" && served[info.Resource] != "" {
			switch info.Verb {
			case "get", "list", "watch":
			default:
				err := apierrors.NewMethodNotSupported(certstatus.Resource(info.Resource), info.Verb)
				from := served[info.Resource]
				err.ErrStatus.Message = fmt.Sprintf("%s.%s is read-only: it is computed from %ss, so %s is not supported; change the %s instead",
					info.Resource, certstatus.GroupName, from, info.Verb, from)
				responsewriters.ErrorNegotiated(err, Codecs, v1alpha1.SchemeGroupVersion, w, req)
				return
			}
		}
		next.ServeHTTP(w, req)
	})
}

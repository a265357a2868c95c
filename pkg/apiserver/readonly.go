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

// readOnly answers every write to certstatus.dev with 405 and a message that
// says why. Without it the generic server's answer names no reason; with
// write interfaces on the storage, discovery would advertise write verbs.
// It runs after authentication and authorization, like any other handler.
func readOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		info, ok := request.RequestInfoFrom(req.Context())
		if ok && info.IsResourceRequest && info.APIGroup == certstatus.GroupName {
			switch info.Verb {
			case "get", "list", "watch":
			default:
				err := apierrors.NewMethodNotSupported(certstatus.Resource(info.Resource), info.Verb)
				err.ErrStatus.Message = fmt.Sprintf("%s.%s is read-only: it is computed from Secrets, so %s is not supported; change the Secret instead",
					info.Resource, certstatus.GroupName, info.Verb)
				responsewriters.ErrorNegotiated(err, Codecs, v1alpha1.SchemeGroupVersion, w, req)
				return
			}
		}
		next.ServeHTTP(w, req)
	})
}

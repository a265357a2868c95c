package apiserver

import (
	"net/http"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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
				err := &apierrors.StatusError{ErrStatus: metav1.Status{
					Status: metav1.StatusFailure,
					Code:   http.StatusMethodNotAllowed,
					Reason: metav1.StatusReasonMethodNotAllowed,
					Details: &metav1.StatusDetails{
						Group: certstatus.GroupName, Kind: info.Resource, Name: info.Name,
					},
					Message: strings.Join([]string{info.Resource, ".", certstatus.GroupName,
						" is read-only: it is computed from Secrets, so ", info.Verb,
						" is not supported; change the Secret instead"}, ""),
				}}
				responsewriters.ErrorNegotiated(err, Codecs, v1alpha1.SchemeGroupVersion, w, req)
				return
			}
		}
		next.ServeHTTP(w, req)
	})
}

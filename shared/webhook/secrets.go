package webhook

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Secrets are the values the webhook checks requests against. Neither is ever logged.
type Secrets interface {
	// AppSecrets are the app secrets a delivery may be signed with: the Instagram-Login and
	// Facebook-Login apps' secrets, and the old one during a rotation.
	AppSecrets(ctx context.Context) ([]string, error)
	// VerifyToken is the token typed into Meta's dashboard for the subscription handshake.
	VerifyToken(ctx context.Context) (string, error)
}

// StaticSecrets are fixed values (local runs and tests).
type StaticSecrets struct {
	Apps  []string
	Token string
}

// AppSecrets returns s.Apps.
func (s StaticSecrets) AppSecrets(context.Context) ([]string, error) { return s.Apps, nil }

// VerifyToken returns s.Token.
func (s StaticSecrets) VerifyToken(context.Context) (string, error) { return s.Token, nil }

// ParamGetter reads a secret by name; *ssm.Params implements it with a TTL cache.
type ParamGetter interface {
	Get(ctx context.Context, name string) (string, error)
}

// ParamSecrets read the secrets from parameters (SSM SecureStrings) through a cache.
type ParamSecrets struct {
	Params    ParamGetter
	AppNames  []string
	TokenName string
}

// AppSecrets reads every app secret parameter. One that cannot be read fails the call: answering
// 500 lets Meta retry, where checking against fewer secrets would reject good deliveries.
func (s ParamSecrets) AppSecrets(ctx context.Context) ([]string, error) {
	out := make([]string, 0, len(s.AppNames))
	for _, name := range s.AppNames {
		v, err := s.Params.Get(ctx, name)
		if err != nil {
			return nil, fmt.Errorf("app secret: %w", err)
		}
		if v == "" {
			return nil, fmt.Errorf("app secret: parameter %s is empty", name)
		}
		out = append(out, v)
	}
	return out, nil
}

// VerifyToken reads the verify token parameter.
func (s ParamSecrets) VerifyToken(ctx context.Context) (string, error) {
	v, err := s.Params.Get(ctx, s.TokenName)
	if err != nil {
		return "", fmt.Errorf("verify token: %w", err)
	}
	if strings.TrimSpace(v) == "" {
		// Refused like a missing parameter: a blank token would let any handshake through.
		return "", fmt.Errorf("verify token: parameter %s is empty or only white space", s.TokenName)
	}
	return v, nil
}

// NewSecrets are the secrets cfg names: parameters read through params where cfg names them,
// else cfg's plain values. params may be nil when cfg names no parameters.
func NewSecrets(cfg Config, params ParamGetter) (Secrets, error) {
	if len(cfg.AppSecretsParams) == 0 && cfg.VerifyTokenParam == "" {
		return StaticSecrets{Apps: cfg.AppSecrets, Token: cfg.VerifyToken}, nil
	}
	if params == nil {
		return nil, errors.New("webhook secrets: SSM parameters configured but no parameter store given")
	}
	m := mixed{
		apps:  StaticSecrets{Apps: cfg.AppSecrets},
		token: StaticSecrets{Token: cfg.VerifyToken},
	}
	if len(cfg.AppSecretsParams) > 0 {
		m.apps = ParamSecrets{Params: params, AppNames: cfg.AppSecretsParams}
	}
	if cfg.VerifyTokenParam != "" {
		m.token = ParamSecrets{Params: params, TokenName: cfg.VerifyTokenParam}
	}
	return m, nil
}

// mixed takes the app secrets and the verify token from different sources (one from SSM, the
// other plain), which a partly local setup may do.
type mixed struct{ apps, token Secrets }

func (m mixed) AppSecrets(ctx context.Context) ([]string, error) { return m.apps.AppSecrets(ctx) }
func (m mixed) VerifyToken(ctx context.Context) (string, error)  { return m.token.VerifyToken(ctx) }
